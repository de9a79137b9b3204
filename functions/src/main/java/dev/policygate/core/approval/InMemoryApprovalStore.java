package dev.policygate.core.approval;


import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Approvals in memory (local mode and tests): a restart ends every pending approval (the held request
 * is gone too), which fails closed. The approval trail itself is in each session recording.
 */
public final class InMemoryApprovalStore implements ApprovalStore {
    private final Map<String, ApprovalRecord> records = new ConcurrentHashMap<>();
    private final Map<String, String> bySession = new ConcurrentHashMap<>();

    @Override
    public synchronized void create(ApprovalRecord record) {
        if (records.containsKey(record.approvalId()) || bySession.containsKey(record.sessionId())) {
            throw new IllegalStateException("approval id or session collision");
        }
        records.put(record.approvalId(), record);
        bySession.put(record.sessionId(), record.approvalId());
    }

    @Override
    public Optional<ApprovalRecord> findBySession(String sessionId) {
        return Optional.ofNullable(bySession.get(sessionId)).map(records::get);
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
