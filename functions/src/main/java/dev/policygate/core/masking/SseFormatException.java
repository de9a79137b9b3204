package dev.policygate.core.masking;

import java.io.IOException;

/** The event stream broke the SSE format, exceeded the event size limit or ended mid-event. */
public class SseFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SseFormatException(String message) {
        super(message);
    }
}
