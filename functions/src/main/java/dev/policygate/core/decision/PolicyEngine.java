package dev.policygate.core.decision;

/**
 * Port: answers Cedar authorization questions against a policy set that was parsed, validated
 * and cached at start-up. Implementations are thread-safe and fail closed: any internal error
 * yields {@link Outcome#DENY}.
 */
public interface PolicyEngine {
    Decision decide(AuthzRequest request);
}
