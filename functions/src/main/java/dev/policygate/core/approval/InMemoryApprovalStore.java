package dev.policygate.local;

import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalState;
import dev.policygate.core.approval.ApprovalStore;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Local approvals, held in memory: a restart ends every pending approval (the held request
 * is gone too), which fails closed. The approval trail itself is in each session recording.
 */
final class InMemoryApprovalStore implements ApprovalStore {
    private final Map<String, ApprovalRecord> records = new ConcurrentHashMap<>();

    @Override
    public void create(ApprovalRecord record) {
        if (records.putIfAbsent(record.approvalId(), record) != null) {
            throw new IllegalStateException("approval id collision");
        }
    }

    @Override
    public Optional<ApprovalRecord> get(String approvalId) {
        return Optional.ofNullable(records.get(approvalId));
    }

    @Override
    public Optional<ApprovalRecord> updateIfPending(String approvalId, UnaryOperator<ApprovalRecord> change) {
        ApprovalRecord[] result = new ApprovalRecord[1];
        records.computeIfPresent(approvalId, (id, cur) -> {
            if (cur.state() != ApprovalState.PENDING) {
                return cur;
            }
            ApprovalRecord next = change.apply(cur);
            result[0] = next;
            return next;
        });
        return Optional.ofNullable(result[0]);
    }
}
