package dev.policygate.core.approval;

/**
 * The outcome of opening or submitting an approval link, rendered as HTML.
 *
 * @param outcome a short machine word recorded with the session (e.g. "refused", "approved")
 */
public record ApprovalPage(int status, String outcome, String html) {
}
