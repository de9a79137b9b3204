package dev.policygate.core.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {

    static List<SseEvent> parseAll(InputStream in, int max) throws IOException {
        SseParser parser = new SseParser(in, max);
        List<SseEvent> out = new ArrayList<>();
        SseEvent e;
        while ((e = parser.next()) != null) {
            out.add(e);
        }
        return out;
    }

    static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Hands out one byte per read, as a slow network might. */
    static InputStream oneByteAtATime(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return new InputStream() {
            private int pos;

            @Override
            public int read() {
                return pos < b.length ? b[pos++] & 0xFF : -1;
            }

            @Override
            public int read(byte[] buf, int off, int len) {
                if (pos >= b.length) {
                    return -1;
                }
                buf[off] = b[pos++];
                return 1;
            }
        };
    }

    @Test
    void next_returnsEventsInOrder_thenNullAtCleanEnd() throws IOException {
        List<SseEvent> events = parseAll(bytes("event: a\ndata: 1\n\nevent: b\ndata: 2\n\n"), 1024);
        assertThat(events).containsExactly(new SseEvent("a", "1"), new SseEvent("b", "2"));
    }

    @Test
    void next_acceptsCrLfAndBareCr_asLineEnds() throws IOException {
        List<SseEvent> events = parseAll(bytes("event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r"), 1024);
        assertThat(events).containsExactly(new SseEvent("a", "1"), new SseEvent("b", "2"));
    }

    @Test
    void next_ignoresCommentsAndUnknownFields() throws IOException {
        List<SseEvent> events = parseAll(bytes(": keep-alive\nevent: a\nid: 7\nfoo: bar\ndata: 1\n\n:bye\n"), 1024);
        assertThat(events).containsExactly(new SseEvent("a", "1"));
    }

    @Test
    void next_joinsDataLines_withNewline() throws IOException {
        List<SseEvent> events = parseAll(bytes("event: a\ndata: one\ndata:two\ndata:  three\n\n"), 1024);
        assertThat(events).containsExactly(new SseEvent("a", "one\ntwo\n three"));
    }

    @Test
    void next_defaultsEventTypeToMessage_andSkipsEventsWithoutData() throws IOException {
        List<SseEvent> events = parseAll(bytes("event: empty\n\ndata: x\n\n"), 1024);
        assertThat(events).containsExactly(new SseEvent("message", "x"));
    }

    @Test
    void next_decodesUtf8_whenCharactersArriveOneByteAtATime() throws IOException {
        String data = "{\"text\":\"héllo wörld — 日本 🎉\"}";
        List<SseEvent> events = parseAll(oneByteAtATime("event: d\r\ndata: " + data + "\r\n\r\n"), 1024);
        assertThat(events).containsExactly(new SseEvent("d", data));
    }

    @Test
    void next_stripsByteOrderMark_atStreamStart() throws IOException {
        List<SseEvent> events = parseAll(bytes("\uFEFFevent: a\ndata: 1\n\n"), 1024);
        assertThat(events).containsExactly(new SseEvent("a", "1"));
    }

    @Test
    void next_throwsFormatException_whenEventExceedsLimit() {
        String big = "event: a\ndata: " + "x".repeat(200) + "\n\n";
        assertThatThrownBy(() -> parseAll(bytes(big), 100))
                .isInstanceOf(SseFormatException.class).hasMessageContaining("100 bytes");
    }

    @Test
    void next_acceptsManyEvents_whenEachIsUnderTheLimit() throws IOException {
        String stream = "event: a\ndata: 12345\n\n".repeat(50);
        assertThat(parseAll(bytes(stream), 30)).hasSize(50);
    }

    @Test
    void next_throwsFormatException_whenStreamEndsMidEvent() {
        assertThatThrownBy(() -> parseAll(bytes("event: a\ndata: 1\n\nevent: b\ndata: 2\n"), 1024))
                .isInstanceOf(SseFormatException.class).hasMessageContaining("ended");
        assertThatThrownBy(() -> parseAll(bytes("event: a\ndata: {\"partial"), 1024))
                .isInstanceOf(SseFormatException.class);
    }

    @Test
    void next_returnsNull_whenStreamIsEmpty() throws IOException {
        assertThat(new SseParser(bytes(""), 10).next()).isNull();
    }
}
