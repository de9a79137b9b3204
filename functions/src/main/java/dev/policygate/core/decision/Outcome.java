package dev.policygate.core.decision;

/** The three outcomes of a policy decision. */
public enum Outcome {
    /** Permitted, and no forbid applies. */
    ALLOW,
    /** Forbidden (or nothing permits it). */
    DENY,
    /** Forbidden only by policies annotated {@code @approval}: a human may lift it. */
    APPROVAL
}
