package dev.policygate.core.masking;

/**
 * Masking could not be completed, so the content must not be delivered. Callers abort the reply
 * (or stream) instead of sending text that was not checked.
 */
public class MaskingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MaskingException(String message) {
        super(message);
    }

    public MaskingException(String message, Throwable cause) {
        super(message, cause);
    }
}
