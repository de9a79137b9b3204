package dev.policygate.core.decision;

/** The actions of the {@code Policygate} Cedar namespace. */
public enum Action {
    invoke_model, use_tool, use_skill, read_unmasked, approve, read_session
}
