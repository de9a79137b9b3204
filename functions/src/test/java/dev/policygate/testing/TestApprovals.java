package dev.policygate.testing;

import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalState;
import dev.policygate.core.approval.ApprovalStore;
import dev.policygate.core.approval.ApproverDirectory;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/** Approval ports for core tests: an in-memory store with the real single-use rule, a fixed directory. */
public final class TestApprovals {
    private TestApprovals() {
    }

    /** Approvals in memory; {@code updateIfPending} changes a record at most once, atomically. */
    public static ApprovalStore memoryStore() {
        Map<String, ApprovalRecord> records = new ConcurrentHashMap<>();
        return new ApprovalStore() {
            @Override
            public void create(ApprovalRecord r) {
                records.put(r.approvalId(), r);
            }

            @Override
            public Optional<ApprovalRecord> get(String id) {
                return Optional.ofNullable(records.get(id));
            }

            @Override
            public Optional<ApprovalRecord> updateIfPending(String id, UnaryOperator<ApprovalRecord> change) {
                ApprovalRecord[] out = new ApprovalRecord[1];
                records.computeIfPresent(id, (k, cur) -> {
                    if (cur.state() != ApprovalState.PENDING) {
                        return cur;
                    }
                    out[0] = change.apply(cur);
                    return out[0];
                });
                return Optional.ofNullable(out[0]);
            }
        };
    }

    /** A directory of group → approver emails. */
    public static ApproverDirectory directory(Map<String, Set<String>> groups) {
        return new ApproverDirectory() {
            @Override
            public Set<String> approvers(String group) {
                return groups.getOrDefault(group, Set.of());
            }

            @Override
            public Set<String> groupsOf(String email) {
                Set<String> out = new TreeSet<>();
                groups.forEach((g, emails) -> {
                    if (emails.contains(email)) {
                        out.add(g);
                    }
                });
                return out;
            }
        };
    }
}
