package dev.policygate.core.masking;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reads server-sent events from a byte stream, following the WHATWG event-stream rules: lines end
 * in LF, CRLF or CR; {@code event:} and {@code data:} fields lose one leading space; several data
 * lines are joined with LF; lines starting with {@code :} are comments; a blank line dispatches
 * the event; events without data are dropped. Lines are split on bytes and decoded as UTF-8 one
 * whole line at a time, so multi-byte characters split across reads decode correctly.
 *
 * <p>Limits: not thread-safe. An event larger than {@code maxEventBytes} (counting every line of
 * it, comments included) or a stream that ends inside an event raises {@link
 * SseFormatException}, so that a truncated reply is never mistaken for a complete one.
 */
public final class SseParser {
    private static final int READ_CHUNK = 8192;

    private final InputStream in;
    private final int maxEventBytes;
    private final byte[] buf = new byte[READ_CHUNK];
    private int pos;
    private int limit;
    private boolean eof;
    private boolean skipLf;
    private boolean firstLine = true;

    private byte[] line = new byte[256];
    private int lineLen;
    private int eventBytes;

    private String eventType;
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private boolean pending;

    public SseParser(InputStream in, int maxEventBytes) {
        this.in = Objects.requireNonNull(in, "in");
        if (maxEventBytes <= 0) {
            throw new IllegalArgumentException("maxEventBytes must be positive");
        }
        this.maxEventBytes = maxEventBytes;
    }

    /** The next event, or null at a clean end of stream (after a complete event). */
    public SseEvent next() throws IOException {
        while (true) {
            if (!readLine()) {
                if (lineLen > 0 || pending) {
                    throw new SseFormatException("event stream ended in the middle of an event");
                }
                return null;
            }
            if (lineLen == 0) {
                eventBytes = 0;
                pending = false;
                if (hasData) {
                    SseEvent e = new SseEvent(eventType == null ? "message" : eventType, data.toString());
                    resetEvent();
                    return e;
                }
                resetEvent();
                continue;
            }
            processLine();
        }
    }

    private void resetEvent() {
        eventType = null;
        data.setLength(0);
        hasData = false;
    }

    private void processLine() {
        int start = 0;
        if (firstLine) {
            firstLine = false;
            if (lineLen >= 3 && line[0] == (byte) 0xEF && line[1] == (byte) 0xBB && line[2] == (byte) 0xBF) {
                start = 3;
            }
        }
        if (start < lineLen && line[start] == ':') {
            return;
        }
        int colon = -1;
        for (int i = start; i < lineLen; i++) {
            if (line[i] == ':') {
                colon = i;
                break;
            }
        }
        int nameEnd = colon < 0 ? lineLen : colon;
        int valueStart = colon < 0 ? lineLen : colon + 1;
        if (valueStart < lineLen && line[valueStart] == ' ') {
            valueStart++;
        }
        String name = new String(line, start, nameEnd - start, StandardCharsets.UTF_8);
        if ("data".equals(name)) {
            if (hasData) {
                data.append('\n');
            }
            data.append(new String(line, valueStart, lineLen - valueStart, StandardCharsets.UTF_8));
            hasData = true;
            pending = true;
        } else if ("event".equals(name)) {
            eventType = new String(line, valueStart, lineLen - valueStart, StandardCharsets.UTF_8);
            pending = true;
        } else if ("id".equals(name) || "retry".equals(name)) {
            pending = true;
        }
        // other field names are ignored, as the specification requires
    }

    /**
     * Reads one line into {@code line[0, lineLen)} without its terminator. Returns false at end of
     * stream; {@code lineLen > 0} then means the last line had no terminator.
     */
    private boolean readLine() throws IOException {
        lineLen = 0;
        while (true) {
            if (pos == limit && !fill()) {
                return false;
            }
            if (skipLf) {
                skipLf = false;
                if (buf[pos] == '\n') {
                    pos++;
                    continue;
                }
            }
            int start = pos;
            while (pos < limit && buf[pos] != '\n' && buf[pos] != '\r') {
                pos++;
            }
            append(start, pos);
            if (pos < limit) {
                byte terminator = buf[pos++];
                countBytes(1);
                skipLf = terminator == '\r';
                return true;
            }
        }
    }

    private void append(int from, int to) throws SseFormatException {
        int len = to - from;
        if (len == 0) {
            return;
        }
        countBytes(len);
        if (lineLen + len > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, lineLen + len));
        }
        System.arraycopy(buf, from, line, lineLen, len);
        lineLen += len;
    }

    private void countBytes(int len) throws SseFormatException {
        eventBytes += len;
        if (eventBytes > maxEventBytes) {
            throw new SseFormatException("event exceeds " + maxEventBytes + " bytes");
        }
    }

    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        int r = in.read(buf, 0, buf.length);
        while (r == 0) {
            r = in.read(buf, 0, buf.length);
        }
        if (r < 0) {
            eof = true;
            return false;
        }
        pos = 0;
        limit = r;
        return true;
    }
}
