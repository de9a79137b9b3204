package dev.policygate.core.approval;

import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Port: approval records. {@link #update} is an atomic compare-and-set, so that a link takes
 * effect at most once even when two clicks race.
 */
public interface ApprovalStore {
    void create(ApprovalRecord record);

    Optional<ApprovalRecord> get(String approvalId);

    /**
     * Applies {@code change} atomically if the record is still PENDING.
     *
     * @return the new record, or empty if it was not pending (nothing changed)
     */
    Optional<ApprovalRecord> updateIfPending(String approvalId, UnaryOperator<ApprovalRecord> change);
}
