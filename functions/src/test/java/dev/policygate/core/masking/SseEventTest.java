package dev.policygate.core.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SseEventTest {

    @Test
    void encode_writesEventAndDataLines_endedByBlankLine() {
        assertThat(new SseEvent("ping", "{\"type\":\"ping\"}").encode())
                .isEqualTo("event: ping\ndata: {\"type\":\"ping\"}\n\n");
    }

    @Test
    void encode_splitsData_whenItHasSeveralLines() {
        assertThat(new SseEvent("x", "a\nb\r\nc").encode()).isEqualTo("event: x\ndata: a\ndata: b\ndata: c\n\n");
    }

    @Test
    void constructor_rejectsEventType_whenItContainsALineBreak() {
        assertThatThrownBy(() -> new SseEvent("a\nevent: b", "{}")).isInstanceOf(IllegalArgumentException.class);
    }
}
