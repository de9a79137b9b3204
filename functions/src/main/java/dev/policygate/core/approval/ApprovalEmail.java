package dev.policygate.core.approval;

/**
 * The email an approver gets: a subject, a plain-text part and an HTML part, from one notice.
 * Shared by every {@link Notifier} (SES on AWS, the outbox folder locally), so that approvers
 * see the same thing everywhere. The excerpt is already masked; everything is escaped for HTML.
 */
public record ApprovalEmail(String to, String subject, String text, String html) {
    public static ApprovalEmail of(ApprovalNotice n) {
        String subject = "Approval needed: a Claude request by " + oneLine(n.requester(), 80);
        String text = "A request to Claude needs your approval.\n\n"
                + "Requested by: " + n.requester() + "\n"
                + "Model: " + n.model() + "\n"
                + "Why: " + n.reason() + "\n"
                + "Expires: " + n.expiresAt() + "\n\n"
                + "Prompt (masked excerpt):\n" + n.maskedExcerpt() + "\n\n"
                + "Open this link to approve or deny (the page asks you to confirm; opening it changes nothing):\n"
                + n.link() + "\n\n"
                + "The link is yours alone: do not forward it.\n";
        String html = "<!doctype html><html><body style=\"font-family:sans-serif\">"
                + "<p>A request to Claude needs your approval.</p>"
                + "<p><b>Requested by:</b> " + ApprovalService.esc(n.requester()) + "<br>"
                + "<b>Model:</b> " + ApprovalService.esc(n.model()) + "<br>"
                + "<b>Why:</b> " + ApprovalService.esc(n.reason()) + "<br>"
                + "<b>Expires:</b> " + ApprovalService.esc(n.expiresAt().toString()) + "</p>"
                + "<p><b>Prompt (masked excerpt):</b></p><pre>" + ApprovalService.esc(n.maskedExcerpt()) + "</pre>"
                + "<p><a href=\"" + ApprovalService.esc(n.link()) + "\">Review and decide</a> "
                + "(the page asks you to confirm; opening it changes nothing).</p>"
                + "<p>The link is yours alone: do not forward it.</p></body></html>";
        return new ApprovalEmail(n.approverEmail(), subject, text, html);
    }

    private static String oneLine(String s, int max) {
        String t = s == null ? "" : s.replaceAll("[\\r\\n\\t]", " ");
        return t.length() <= max ? t : t.substring(0, max);
    }
}
