package dev.policygate.core.masking;

import java.util.Objects;

/**
 * One server-sent event: its type ({@code event:} field) and its data. Only the fields the
 * Messages API uses are kept; {@code id:} and {@code retry:} are dropped.
 */
public record SseEvent(String event, String data) {
    public SseEvent {
        Objects.requireNonNull(data, "data");
        if (event != null && (event.indexOf('\n') >= 0 || event.indexOf('\r') >= 0)) {
            throw new IllegalArgumentException("an SSE event type cannot contain a line break");
        }
    }

    /** The wire form, {@code event: X\ndata: Y\n\n}, with one {@code data:} line per data line. */
    public String encode() {
        StringBuilder out = new StringBuilder(data.length() + 32);
        if (event != null) {
            out.append("event: ").append(event).append('\n');
        }
        int start = 0;
        int n = data.length();
        for (int i = 0; i <= n; i++) {
            if (i == n || data.charAt(i) == '\n' || data.charAt(i) == '\r') {
                out.append("data: ").append(data, start, i).append('\n');
                if (i < n && data.charAt(i) == '\r' && i + 1 < n && data.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        return out.append('\n').toString();
    }
}
