package dev.policygate.core.upstream;

import java.io.IOException;

/** Claude could not be reached, timed out, or reset the connection. */
public final class UpstreamException extends IOException {
    /** What went wrong, for the error type and the recording. */
    public enum Kind { TIMEOUT, CONNECT, IO }

    private final Kind kind;

    public UpstreamException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
