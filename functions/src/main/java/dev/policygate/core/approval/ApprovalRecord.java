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
 * @param taskToken       the workflow's callback token (Step Functions), or null in-process; it
 *                        never leaves the approval store
 */
public record ApprovalRecord(String approvalId, String sessionId, String requester, String requesterEmail,
                             String model, List<String> reasons, Set<String> groups,
                             Map<String, Set<String>> approvers, Instant createdAt, Instant expiresAt,
                             ApprovalState state, Map<String, String> groupDecisions, String decidedBy,
                             Instant decidedAt, String promptExcerpt, String taskToken) {
    public ApprovalRecord {
        reasons = List.copyOf(reasons);
        groups = Set.copyOf(groups);
        approvers = Map.copyOf(approvers);
        groupDecisions = Map.copyOf(groupDecisions);
    }

    /** An in-process approval (no workflow token). */
    public ApprovalRecord(String approvalId, String sessionId, String requester, String requesterEmail,
                          String model, List<String> reasons, Set<String> groups,
                          Map<String, Set<String>> approvers, Instant createdAt, Instant expiresAt,
                          ApprovalState state, Map<String, String> groupDecisions, String decidedBy,
                          Instant decidedAt, String promptExcerpt) {
        this(approvalId, sessionId, requester, requesterEmail, model, reasons, groups, approvers, createdAt, expiresAt,
                state, groupDecisions, decidedBy, decidedAt, promptExcerpt, null);
    }

    ApprovalRecord with(ApprovalState newState, Map<String, String> decisions, String by, Instant at) {
        return new ApprovalRecord(approvalId, sessionId, requester, requesterEmail, model, reasons, groups, approvers,
                createdAt, expiresAt, newState, decisions, by, at, promptExcerpt, taskToken);
    }

    ApprovalRecord withTaskToken(String token) {
        return new ApprovalRecord(approvalId, sessionId, requester, requesterEmail, model, reasons, groups, approvers,
                createdAt, expiresAt, state, groupDecisions, decidedBy, decidedAt, promptExcerpt, token);
    }
}
