package dev.policygate.core.json;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one JSON mapper configuration of the project. Bounded nesting and string sizes, so that
 * hostile payloads cannot exhaust the stack or the heap before our own size checks run.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // policy and the upstream must read the same body: a duplicate key is an error
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64)
                .maxStringLength(8 * 1024 * 1024)
                .maxNumberLength(64)
                .build());
    }

    private Json() {
    }

    /** The shared, thread-safe mapper. Never reconfigure it after start-up. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
