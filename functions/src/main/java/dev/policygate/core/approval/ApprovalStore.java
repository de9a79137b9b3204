package dev.policygate.core.approval;

import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Port: approval records. {@link #updateIfPending} is an atomic compare-and-set, so that a link
 * takes effect at most once even when two clicks race. A session has at most one approval.
 */
public interface ApprovalStore {
    /** @throws IllegalStateException if the id, or an approval for the same session, exists */
    void create(ApprovalRecord record);

    Optional<ApprovalRecord> get(String approvalId);

    /** The approval of a session, if one was opened. */
    Optional<ApprovalRecord> findBySession(String sessionId);

    /**
     * Applies {@code change} atomically if the record is still PENDING.
     *
     * @return the new record, or empty if it was not pending (nothing changed)
     */
    Optional<ApprovalRecord> updateIfPending(String approvalId, UnaryOperator<ApprovalRecord> change);
}
