package dev.policygate.core.approval;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One approval: who asked, which groups must consent, who may approve, and the outcome.
 *
 * @param approvers       email → the groups that email approves for
 * @param groupDecisions  group → email of the approver who approved for it
 * @param decidedBy       the approver whose click ended the approval (null while pending or on expiry)
 */
public record ApprovalRecord(String approvalId, String sessionId, String requester, String requesterEmail,
                             String model, List<String> reasons, Set<String> groups,
                             Map<String, Set<String>> approvers, Instant createdAt, Instant expiresAt,
                             ApprovalState state, Map<String, String> groupDecisions, String decidedBy,
                             Instant decidedAt, String promptExcerpt) {
    public ApprovalRecord {
        reasons = List.copyOf(reasons);
        groups = Set.copyOf(groups);
        approvers = Map.copyOf(approvers);
        groupDecisions = Map.copyOf(groupDecisions);
    }

    ApprovalRecord with(ApprovalState newState, Map<String, String> decisions, String by, Instant at) {
        return new ApprovalRecord(approvalId, sessionId, requester, requesterEmail, model, reasons, groups, approvers,
                createdAt, expiresAt, newState, decisions, by, at, promptExcerpt);
    }
}
