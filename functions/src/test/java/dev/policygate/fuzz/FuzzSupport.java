package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.MaskingStrategy;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.masking.TextMasker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Shared pieces of the fuzz tests: the maskers under test, a palette of valid entities the
 * fuzzer splices into its text (so that it starts next to every detector instead of having to
 * find an IBAN checksum by chance), and a builder for well-formed Messages API streams.
 */
final class FuzzSupport {
    /** One of each built-in class; each is detected on its own (checked by the corpus tests). */
    static final List<String> ENTITIES = List.of(
            "eve@example.com",
            "o.brien+tag@mail.example.co.uk",
            "+44 20 7946 0958",
            "(415) 555-0132",
            "4111 1111 1111 1111",
            "5555555555554444",
            "078-05-1120",
            "GB82 WEST 1234 5698 7654 32",
            "DE89370400440532013000",
            "192.168.10.254",
            "2001:db8:85a3::8a2e:370:7334",
            "AKIA" + "IOSFODNN7EXAMPLE",
            "aws_secret_access_key=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "sk-ant-api03-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
            "ghp_" + "abcdefghijklmnopqrstuvwxyz0123456789",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----");

    /** Text that sits next to entities in real replies, and the separators that decide tokens. */
    static final List<String> GLUE = List.of(" ", "\n", ": ", ", ", ". ", "\t", "(", ")", "\"", "<", ">", "=",
            "mailto:", "https://", "@", "-", "_", "/", "\u200b", "\u00a0", "é", "😀", "0", "A");

    /** Every class redacted in full, so that "visible" is a plain substring check. */
    static final TextMasker REDACT_ALL = new TextMasker(DetectorSet.builtIns(),
            new MaskingConfig(MaskingStrategy.REDACT, Map.of(), null));

    /** The shipped defaults (PARTIAL for cards and phones), as the gateway uses them. */
    static final TextMasker DEFAULTS = new TextMasker(DetectorSet.builtIns(), MaskingConfig.defaults(new byte[32]));

    private FuzzSupport() {
    }

    /** Fuzz text with valid entities and glue spliced in at fuzzer-chosen places. */
    static String textWithEntities(FuzzedDataProvider data, int maxParts) {
        StringBuilder s = new StringBuilder();
        int parts = data.consumeInt(1, maxParts);
        for (int i = 0; i < parts && data.remainingBytes() > 0; i++) {
            switch (data.consumeInt(0, 3)) {
                case 0 -> s.append(data.pickValue(ENTITIES));
                case 1 -> s.append(data.pickValue(GLUE));
                default -> s.append(data.consumeString(data.consumeInt(0, 40)));
            }
        }
        return s.toString();
    }

    /** Cuts {@code text} into deltas of fuzzer-chosen sizes, never between a surrogate pair. */
    static List<String> split(FuzzedDataProvider data, String text) {
        List<String> parts = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int n = data.remainingBytes() > 0 ? data.consumeInt(1, 24) : text.length();
            int end = Math.min(text.length(), i + n);
            if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
                end++;
            }
            parts.add(text.substring(i, end));
            i = end;
        }
        return parts;
    }

    // ---- a well-formed Messages API stream ------------------------------------------------

    static ObjectNode obj() {
        return Json.mapper().createObjectNode();
    }

    static SseEvent event(String type, ObjectNode data) {
        data.put("type", type);
        return new SseEvent(type, data.toString());
    }

    static SseEvent messageStart() {
        ObjectNode m = obj().put("id", "msg_fuzz").put("type", "message").put("role", "assistant")
                .put("model", "claude-sonnet-4-5");
        m.putArray("content");
        m.putNull("stop_reason");
        m.putObject("usage").put("input_tokens", 1).put("output_tokens", 1);
        ObjectNode d = obj();
        d.set("message", m);
        return event("message_start", d);
    }

    static SseEvent blockStart(int index, String type) {
        ObjectNode d = obj().put("index", index);
        d.putObject("content_block").put("type", type).put(type, "");
        return event("content_block_start", d);
    }

    static SseEvent delta(int index, String deltaType, String field, String text) {
        ObjectNode d = obj().put("index", index);
        d.putObject("delta").put("type", deltaType).put(field, text);
        return event("content_block_delta", d);
    }

    static SseEvent blockStop(int index) {
        return event("content_block_stop", obj().put("index", index));
    }

    static SseEvent messageDelta() {
        ObjectNode d = obj();
        d.putObject("delta").put("stop_reason", "end_turn");
        d.putObject("usage").put("output_tokens", 9);
        return event("message_delta", d);
    }

    static SseEvent messageStop() {
        return event("message_stop", obj());
    }

    /** The concatenated text of the deltas of one block, as a client reassembles it. */
    static String emittedText(List<SseEvent> events, int index, String field) {
        StringBuilder out = new StringBuilder();
        for (SseEvent e : events) {
            if (!"content_block_delta".equals(e.event())) {
                continue;
            }
            JsonNode d = parse(e.data());
            if (d.path("index").asInt(-1) == index) {
                out.append(d.path("delta").path(field).asText(""));
            }
        }
        return out.toString();
    }

    static JsonNode parse(String json) {
        try {
            return Json.mapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
