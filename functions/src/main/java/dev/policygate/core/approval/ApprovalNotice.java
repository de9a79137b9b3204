package dev.policygate.core.approval;

import java.time.Instant;

/**
 * What one approver is sent: their own signed link, and a masked summary of the request.
 */
public record ApprovalNotice(String approvalId, String approverEmail, String link, String requester, String model,
                             String reason, String maskedExcerpt, Instant expiresAt) {
}
