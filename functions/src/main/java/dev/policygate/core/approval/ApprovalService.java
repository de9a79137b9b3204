package dev.policygate.core.approval;

import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.EntityRef;
import dev.policygate.core.decision.Outcome;
import dev.policygate.core.decision.PolicyEngine;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Use case: hold a request for human approval and apply an approver's decision.
 *
 * <p>Rules: each approver gets an own signed, expiring link. Opening it (GET) changes nothing.
 * Submitting it (POST, with the page's CSRF token) checks the signature, the expiry, that the
 * approver is one the link was made for, that the approver is not the requester, and Cedar
 * {@code approve}; then an atomic PENDING → APPROVED/DENIED change makes it take effect once.
 * Every group named by the deciding {@code @approval} annotations must approve; one denial
 * ends it. Unknown ids, bad signatures and strangers all get the same refusal.
 */
public final class ApprovalService {
    private static final Logger LOG = Logger.getLogger(ApprovalService.class.getName());
    static final String REFUSAL = "This approval link is not valid.";

    private final ApprovalStore store;
    private final Notifier notifier;
    private final ApproverDirectory directory;
    private final ApprovalLinks links;
    private final PolicyEngine policies;
    private final Clock clock;
    private final Duration timeout;
    private final String baseUrl;
    private final ScheduledExecutorService scheduler;
    private volatile ApprovalListener listener;

    public ApprovalService(ApprovalStore store, Notifier notifier, ApproverDirectory directory, ApprovalLinks links,
                           PolicyEngine policies, Clock clock, Duration timeout, String baseUrl,
                           ScheduledExecutorService scheduler) {
        // scheduler: expires approvals in-process; null where a workflow's own timer does (AWS)
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("approval timeout must be positive");
        }
        this.store = store;
        this.notifier = notifier;
        this.directory = directory;
        this.links = links;
        this.policies = policies;
        this.clock = clock;
        this.timeout = timeout;
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.scheduler = scheduler;
    }

    public void setListener(ApprovalListener listener) {
        this.listener = listener;
    }

    /** A request that waits for approval. */
    public record Hold(String sessionId, String requester, String requesterEmail, String model, List<String> reasons,
                       Set<String> groups, String maskedExcerpt) {
    }

    /**
     * Opens an approval and notifies every approver. Idempotent per session: a workflow that
     * retries its notify step gets the same approval (with its new task token), and the
     * approvers the same links again, never a second approval.
     *
     * @param taskToken the workflow's callback token, or null in-process
     * @throws NoApproversException when a required group has no approver other than the requester
     */
    public ApprovalRecord open(Hold hold, String taskToken) throws IOException {
        Optional<ApprovalRecord> existing = store.findBySession(hold.sessionId());
        if (existing.isPresent()) {
            ApprovalRecord r = existing.get();
            if (r.state() != ApprovalState.PENDING) {
                return r;
            }
            if (taskToken != null && !taskToken.equals(r.taskToken())) {
                r = store.updateIfPending(r.approvalId(), cur -> cur.withTaskToken(taskToken)).orElse(r);
            }
            notifyAll(r, hold);
            return r;
        }
        Map<String, Set<String>> approvers = resolveApprovers(directory, hold.groups(), hold.requester(),
                hold.requesterEmail());
        Instant now = clock.instant();
        Instant expires = now.plus(timeout);
        ApprovalRecord record = new ApprovalRecord(ApprovalLinks.newApprovalId(), hold.sessionId(), hold.requester(),
                hold.requesterEmail(), hold.model(), hold.reasons(), hold.groups(), approvers, now, expires,
                ApprovalState.PENDING, Map.of(), null, null, hold.maskedExcerpt(), taskToken);
        store.create(record);
        notifyAll(record, hold);
        if (scheduler != null) {
            scheduler.schedule(() -> expire(record.approvalId()), Math.max(0, timeout.toMillis()),
                    TimeUnit.MILLISECONDS);
        }
        return record;
    }

    /** Opens an in-process approval (no workflow token). */
    public ApprovalRecord open(Hold hold) throws IOException {
        return open(hold, null);
    }

    private void notifyAll(ApprovalRecord record, Hold hold) throws IOException {
        String reason = String.join("; ", hold.reasons());
        for (String email : new TreeSet<>(record.approvers().keySet())) {
            notifier.send(new ApprovalNotice(record.approvalId(), email, link(record, email), hold.requester(),
                    hold.model(), reason, hold.maskedExcerpt(), record.expiresAt()));
        }
    }

    /**
     * Who may approve for each group: the group's members less the requester (by id or email).
     *
     * @return email → the groups that email approves for
     * @throws NoApproversException if a group has nobody left
     */
    public static Map<String, Set<String>> resolveApprovers(ApproverDirectory directory, Set<String> groups,
                                                            String requester, String requesterEmail)
            throws NoApproversException {
        Map<String, Set<String>> approvers = new LinkedHashMap<>();
        for (String group : new TreeSet<>(groups)) {
            int count = 0;
            for (String email : directory.approvers(group)) {
                if (email.equalsIgnoreCase(requesterEmail) || email.equalsIgnoreCase(requester)) {
                    continue;
                }
                approvers.computeIfAbsent(email, e -> new TreeSet<>()).add(group);
                count++;
            }
            if (count == 0) {
                throw new NoApproversException(group);
            }
        }
        return approvers;
    }

    /**
     * The workflow says the approval's time is up (its own timer, not this clock): a pending
     * approval of the session becomes EXPIRED, so that a late click gets the expired page.
     *
     * @return the approval, whatever its state, if the session has one
     */
    public Optional<ApprovalRecord> expireSession(String sessionId) {
        Optional<ApprovalRecord> r = store.findBySession(sessionId);
        if (r.isEmpty()) {
            return r;
        }
        Optional<ApprovalRecord> updated = store.updateIfPending(r.get().approvalId(),
                cur -> cur.with(ApprovalState.EXPIRED, cur.groupDecisions(), null, clock.instant()));
        return updated.isPresent() ? updated : store.get(r.get().approvalId());
    }

    /** Thrown when nobody could approve: the request is denied instead of held forever. */
    public static final class NoApproversException extends IOException {
        private final String group;

        public NoApproversException(String group) {
            super("no approver configured for group " + group);
            this.group = group;
        }

        public String group() {
            return group;
        }
    }

    String link(ApprovalRecord record, String email) {
        long exp = record.expiresAt().getEpochSecond();
        return baseUrl + "/approvals/" + record.approvalId() + "?approver=" + enc(email) + "&exp=" + exp + "&sig="
                + links.sign(record.approvalId(), email, exp);
    }

    /** Marks a pending approval as expired (idempotent). */
    public void expire(String approvalId) {
        try {
            Optional<ApprovalRecord> updated = store.updateIfPending(approvalId,
                    r -> clock.instant().isBefore(r.expiresAt()) ? r
                            : r.with(ApprovalState.EXPIRED, r.groupDecisions(), null, clock.instant()));
            updated.filter(r -> r.state() == ApprovalState.EXPIRED).ifPresent(r -> {
                ApprovalListener l = listener;
                if (l != null) {
                    l.onExpired(r);
                }
            });
            if (updated.isPresent() && updated.get().state() == ApprovalState.PENDING && scheduler != null) {
                // the clock says not yet (an injected clock in tests): look again shortly
                scheduler.schedule(() -> expire(approvalId), 200, TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "expiring approval failed", e);
        }
    }

    /** GET: the confirmation page. Changes nothing (mail scanners prefetch links). */
    public ApprovalPage view(String approvalId, Map<String, String> query) {
        Optional<Checked> checked = check(approvalId, query.get("approver"), query.get("exp"), query.get("sig"));
        if (checked.isEmpty()) {
            return refusal();
        }
        Checked c = checked.get();
        Optional<ApprovalPage> ended = endedPage(c);
        if (ended.isPresent()) {
            return ended.get();
        }
        ApprovalRecord r = c.record;
        String csrf = links.csrfToken(r.approvalId(), c.approver, c.exp);
        // relative action: works behind a path prefix too
        String form = "<form method=\"post\" action=\"" + esc(r.approvalId()) + "\">"
                + hidden("approver", c.approver) + hidden("exp", Long.toString(c.exp)) + hidden("sig", c.sig)
                + hidden("csrf", csrf)
                + "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> "
                + "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>";
        return new ApprovalPage(200, "viewed", page("Approve this Claude request?",
                "<p><b>Requested by:</b> " + esc(r.requester()) + "</p>"
                        + "<p><b>Model:</b> " + esc(r.model()) + "</p>"
                        + "<p><b>Why it needs approval:</b> " + esc(String.join("; ", r.reasons())) + "</p>"
                        + "<p><b>Prompt (masked excerpt):</b></p><pre>" + esc(r.promptExcerpt()) + "</pre>"
                        + "<p><b>You approve as:</b> " + esc(c.approver) + " (groups "
                        + esc(String.join(", ", r.approvers().get(c.approver))) + ")</p>"
                        + "<p><b>Expires:</b> " + esc(r.expiresAt().toString()) + "</p>" + form));
    }

    /** POST: applies Approve or Deny, once. */
    public ApprovalPage decide(String approvalId, Map<String, String> form) {
        Optional<Checked> checked = check(approvalId, form.get("approver"), form.get("exp"), form.get("sig"));
        if (checked.isEmpty()) {
            return refusal();
        }
        Checked c = checked.get();
        if (!links.verifyCsrf(approvalId, c.approver, c.exp, form.get("csrf"))) {
            return refusal();
        }
        String decision = form.get("decision");
        if (!"approve".equals(decision) && !"deny".equals(decision)) {
            return new ApprovalPage(400, "bad_form", page("Choose Approve or Deny",
                    "<p>The form did not say whether to approve or deny. Open the link again.</p>"));
        }
        Optional<ApprovalPage> ended = endedPage(c);
        if (ended.isPresent()) {
            return ended.get();
        }
        ApprovalRecord r = c.record;
        if (c.approver.equalsIgnoreCase(r.requester()) || c.approver.equalsIgnoreCase(r.requesterEmail())) {
            return new ApprovalPage(403, "self_approval", page("You cannot approve your own request",
                    "<p>Another approver must decide.</p>"));
        }
        Set<String> permitted = new TreeSet<>();
        for (String group : r.approvers().get(c.approver)) {
            if (mayApprove(c.approver, r, group)) {
                permitted.add(group);
            }
        }
        if (permitted.isEmpty()) {
            return refusal();
        }
        Instant now = clock.instant();
        boolean approve = decision.equals("approve");
        Optional<ApprovalRecord> updated = store.updateIfPending(approvalId, cur -> {
            if (!now.isBefore(cur.expiresAt())) {
                return cur;
            }
            if (!approve) {
                return cur.with(ApprovalState.DENIED, cur.groupDecisions(), c.approver, now);
            }
            Map<String, String> decisions = new HashMap<>(cur.groupDecisions());
            for (String g : permitted) {
                decisions.putIfAbsent(g, c.approver);
            }
            ApprovalState next = decisions.keySet().containsAll(cur.groups()) ? ApprovalState.APPROVED
                    : ApprovalState.PENDING;
            return cur.with(next, decisions, next == ApprovalState.PENDING ? null : c.approver, now);
        });
        if (updated.isEmpty()) {
            return endedPage(new Checked(store.get(approvalId).orElseThrow(), c.approver, c.exp, c.sig))
                    .orElseGet(ApprovalService::refusal);
        }
        ApprovalRecord u = updated.get();
        ApprovalListener l = listener;
        switch (u.state()) {
            case APPROVED -> {
                if (l != null && !deliver(() -> l.onApproved(u), u)) {
                    return notDelivered("Approved");
                }
                return new ApprovalPage(200, "approved", page("Approved",
                        "<p>You approved the request. It is being sent to Claude now.</p>"));
            }
            case DENIED -> {
                if (l != null && !deliver(() -> l.onDenied(u), u)) {
                    return notDelivered("Denied");
                }
                return new ApprovalPage(200, "denied", page("Denied", "<p>You denied the request.</p>"));
            }
            case PENDING -> {
                if (!now.isBefore(u.expiresAt())) {
                    return new ApprovalPage(410, "expired", page("This link has expired",
                            "<p>The request was not approved in time.</p>"));
                }
                return new ApprovalPage(200, "partially_approved", page("Approval recorded",
                        "<p>Your approval is recorded. Approval from another group is still needed.</p>"));
            }
            default -> {
                return endedPage(new Checked(u, c.approver, c.exp, c.sig)).orElseGet(ApprovalService::refusal);
            }
        }
    }

    /** Tells the listener; false if it could not take the decision (the workflow already ended or is down). */
    private static boolean deliver(Runnable tell, ApprovalRecord r) {
        try {
            tell.run();
            return true;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "approval " + r.approvalId() + ": the decision could not be delivered to the workflow ("
                    + e.getClass().getSimpleName() + ")");
            return false;
        }
    }

    private static ApprovalPage notDelivered(String what) {
        return new ApprovalPage(503, "not_delivered", page(what + ", but not delivered",
                "<p>Your decision is recorded, but the waiting request could not be resumed: it may have expired "
                        + "a moment ago. Nothing was sent to Claude. The requester sees the final outcome.</p>"));
    }

    private boolean mayApprove(String approver, ApprovalRecord r, String group) {
        AuthzRequest req = new AuthzRequest(EntityRef.user(approver), directory.groupsOf(approver), Action.approve,
                EntityRef.session(r.sessionId()),
                Map.of("owner", EntityRef.user(r.requester()), "status", "PENDING_APPROVAL"),
                Contexts.approve(group));
        return policies.decide(req).outcome() == Outcome.ALLOW;
    }

    private record Checked(ApprovalRecord record, String approver, long exp, String sig) {
    }

    private Optional<Checked> check(String approvalId, String approver, String expText, String sig) {
        if (!ApprovalLinks.isApprovalIdShape(approvalId) || approver == null || approver.length() > 320
                || expText == null || expText.length() > 12 || sig == null || sig.length() > 64) {
            return Optional.empty();
        }
        long exp;
        try {
            exp = Long.parseLong(expText);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (!links.verify(approvalId, approver, exp, sig)) {
            return Optional.empty();
        }
        Optional<ApprovalRecord> record = store.get(approvalId);
        if (record.isEmpty() || !record.get().approvers().containsKey(approver)) {
            return Optional.empty();
        }
        return Optional.of(new Checked(record.get(), approver, exp, sig));
    }

    private Optional<ApprovalPage> endedPage(Checked c) {
        ApprovalRecord r = c.record;
        switch (r.state()) {
            case APPROVED -> {
                return Optional.of(new ApprovalPage(409, "already_approved", page("Already approved",
                        "<p>This request was already approved by " + esc(r.decidedBy()) + " at "
                                + esc(String.valueOf(r.decidedAt())) + ". Nothing changed.</p>")));
            }
            case DENIED -> {
                return Optional.of(new ApprovalPage(409, "already_denied", page("Already denied",
                        "<p>This request was already denied by " + esc(r.decidedBy()) + " at "
                                + esc(String.valueOf(r.decidedAt())) + ". Nothing changed.</p>")));
            }
            case EXPIRED -> {
                return Optional.of(new ApprovalPage(410, "expired", page("This request has expired",
                        "<p>Nobody approved it before " + esc(r.expiresAt().toString()) + ". Nothing changed.</p>")));
            }
            default -> {
                Instant now = clock.instant();
                if (now.getEpochSecond() >= c.exp || !now.isBefore(r.expiresAt())) {
                    return Optional.of(new ApprovalPage(410, "expired", page("This link has expired",
                            "<p>The approval window closed at " + esc(r.expiresAt().toString())
                                    + ". Nothing changed.</p>")));
                }
                if (r.groupDecisions().values().stream().anyMatch(c.approver::equalsIgnoreCase)
                        && r.approvers().get(c.approver).stream().allMatch(r.groupDecisions()::containsKey)) {
                    return Optional.of(new ApprovalPage(409, "already_approved", page("Already approved",
                            "<p>You already approved this request. It waits for another group.</p>")));
                }
                return Optional.empty();
            }
        }
    }

    private static ApprovalPage refusal() {
        return new ApprovalPage(403, "refused", page("Link not valid", "<p>" + REFUSAL + "</p>"));
    }

    private static String hidden(String name, String value) {
        return "<input type=\"hidden\" name=\"" + name + "\" value=\"" + esc(value) + "\">";
    }

    static String page(String title, String body) {
        return "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
                + "<title>Policygate: " + esc(title) + "</title></head><body style=\"font-family:sans-serif;"
                + "max-width:40em;margin:2em auto\"><h1>" + esc(title) + "</h1>" + body + "</body></html>";
    }

    public static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
