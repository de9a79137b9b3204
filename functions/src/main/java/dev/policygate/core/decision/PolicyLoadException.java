package dev.policygate.core.decision;

/**
 * The policy set cannot be loaded: a file is unreadable, a policy does not parse, an id is
 * duplicated, an annotation is misused, or the validator rejects a policy against the schema.
 * Thrown at start-up only, so that an invalid policy set never serves a request. The message names
 * the file and the policy id, and carries the parser's or validator's own words.
 */
public final class PolicyLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PolicyLoadException(String message) {
        super(message);
    }

    public PolicyLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
