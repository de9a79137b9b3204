package dev.policygate.testing;

import dev.policygate.core.approval.ApprovalStore;
import dev.policygate.core.approval.ApproverDirectory;
import dev.policygate.core.approval.InMemoryApprovalStore;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Approval ports for core tests: an in-memory store with the real single-use rule, a fixed directory. */
public final class TestApprovals {
    private TestApprovals() {
    }

    /** Approvals in memory; {@code updateIfPending} changes a record at most once, atomically. */
    public static ApprovalStore memoryStore() {
        return new InMemoryApprovalStore();
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
