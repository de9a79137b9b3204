package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.masking.SseFormatException;
import dev.policygate.core.masking.SseParser;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the SSE parser with whatever an upstream might send. Properties: it fails only with
 * {@link SseFormatException}; the events do not depend on how the bytes were cut into reads;
 * no event exceeds the size limit; and re-encoding the events parses back to the same events.
 */
class SseParserFuzzTest {
    private static final int LIMIT = 4096;

    @FuzzTest
    void parse_isIndependentOfReadBoundaries_andRoundTrips(FuzzedDataProvider data) throws IOException {
        int[] cuts = new int[data.consumeInt(0, 8)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = data.consumeInt(1, 64);
        }
        byte[] bytes = data.consumeRemainingAsBytes();
        Result whole = parse(new ByteArrayInputStream(bytes));
        Result chunked = parse(new ChunkedStream(bytes, cuts));
        assertEquals(whole.events, chunked.events, "events depend on read boundaries");
        assertEquals(whole.failure, chunked.failure, "failure depends on read boundaries");
        StringBuilder encoded = new StringBuilder();
        for (SseEvent e : whole.events) {
            assertTrue(e.data().length() <= LIMIT, "event over the limit was passed on");
            encoded.append(e.encode());
        }
        Result again = parse(new ByteArrayInputStream(encoded.toString().getBytes(StandardCharsets.UTF_8)));
        assertEquals(null, again.failure, "re-encoded events must parse");
        assertEquals(whole.events, again.events, "encode/parse round trip");
    }

    private record Result(List<SseEvent> events, String failure) {
    }

    private static Result parse(InputStream in) throws IOException {
        SseParser p = new SseParser(in, LIMIT);
        List<SseEvent> events = new ArrayList<>();
        try {
            SseEvent e;
            while ((e = p.next()) != null) {
                events.add(e);
            }
            return new Result(events, null);
        } catch (SseFormatException e) {
            return new Result(events, e.getMessage());
        }
    }

    /** Returns the bytes in reads of the given sizes (then the rest at once). */
    private static final class ChunkedStream extends InputStream {
        private final byte[] bytes;
        private final int[] cuts;
        private int pos;
        private int read;

        ChunkedStream(byte[] bytes, int[] cuts) {
            this.bytes = bytes;
            this.cuts = cuts;
        }

        @Override
        public int read() {
            return pos < bytes.length ? bytes[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= bytes.length) {
                return -1;
            }
            int n = read < cuts.length ? cuts[read++] : bytes.length;
            n = Math.min(Math.min(n, len), bytes.length - pos);
            System.arraycopy(bytes, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
