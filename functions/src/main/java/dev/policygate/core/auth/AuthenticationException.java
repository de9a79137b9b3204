package dev.policygate.core.auth;

/**
 * Authentication failed. The message is safe to show to the caller: it never contains the
 * presented credential.
 */
public final class AuthenticationException extends Exception {
    /** Why authentication failed; recorded with the session. */
    public enum Reason { MISSING, MALFORMED, INVALID, EXPIRED, UNKNOWN_KEY, REVOKED, UNAVAILABLE }

    private final Reason reason;

    public AuthenticationException(Reason reason, String safeMessage) {
        super(safeMessage, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
