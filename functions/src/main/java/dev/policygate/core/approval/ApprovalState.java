package dev.policygate.core.approval;

/** The state of an approval. Only PENDING may change, and only once. */
public enum ApprovalState { PENDING, APPROVED, DENIED, EXPIRED }
