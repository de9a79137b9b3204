package dev.policygate.aws.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import dev.policygate.aws.logging.LambdaLogging;
import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.ApprovalState;
import dev.policygate.core.approval.ApprovalStore;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.core.session.SessionStatus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The state machine's terminal tasks, one function: {@code forward} (after an approval:
 * re-evaluate with {@code context.approval.granted}, call Claude once, mask, record, keep the
 * owner's reply), {@code deny}, {@code expire} and {@code fail} (record the outcome in the index
 * and the recording, and forget the held request). Every action is idempotent, so the state
 * machine's retries are safe.
 *
 * <p>Input: {@code {"action":..., "session_id":..., "approval":{...}, "error":{...}}}. Output:
 * {@code {"status": <the session's status>}}. A session that cannot be found is an error, so
 * that the state machine's failure path records what it can.
 */
public final class ForwardHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    static {
        LambdaLogging.install();
    }

    private final Gateway gateway;
    private final ApprovalService approvals;
    private final ApprovalStore approvalStore;

    public ForwardHandler() {
        this(LambdaWiring.production(AwsSettings.fromEnvironment(System.getenv()),
                ApprovalSettings.fromEnvironment(System.getenv(), ApprovalSettings.Role.FORWARD),
                ApprovalSettings.Role.FORWARD));
    }

    /** A function wired by {@link LambdaWiring} (tests wire it over emulators). */
    public ForwardHandler(LambdaWiring.Wired wired) {
        this(wired.gateway(), wired.approvals(), wired.approvalStore());
    }

    /** For tests. */
    public ForwardHandler(Gateway gateway, ApprovalService approvals, ApprovalStore approvalStore) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
        this.approvals = Objects.requireNonNull(approvals, "approvals");
        this.approvalStore = Objects.requireNonNull(approvalStore, "approvalStore");
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> input, Context context) {
        String sessionId = ApprovalNotifierHandler.TaskInput.sessionId(input);
        return LambdaLogging.invocation(context, sessionId, () -> act(sessionId, input));
    }

    private Map<String, Object> act(String sessionId, Map<String, Object> input) {
        Object action = input.get("action");
        SessionStatus status = switch (action instanceof String a ? a : "") {
            case "forward" -> forward(sessionId);
            case "deny" -> gateway.endHeld(sessionId, SessionStatus.REJECTED,
                    approvalStore.findBySession(sessionId).map(ApprovalRecord::decidedBy).orElse(null), null);
            case "expire" -> {
                approvals.expireSession(sessionId);
                yield gateway.endHeld(sessionId, SessionStatus.EXPIRED, null, null);
            }
            case "fail" -> gateway.endHeld(sessionId, SessionStatus.FAILED, null, failure(input.get("error")));
            default -> throw new IllegalArgumentException("action: must be forward, deny, expire or fail");
        };
        if (status == null) {
            throw new IllegalStateException("session " + sessionId + " has no recording to continue");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("status", status.name());
        return out;
    }

    /**
     * Forwards only what the approval store says was approved: the decision in the task input is
     * the state machine's, but the record is the authority.
     */
    private SessionStatus forward(String sessionId) {
        Optional<ApprovalRecord> r = approvalStore.findBySession(sessionId);
        if (r.isEmpty() || r.get().state() != ApprovalState.APPROVED) {
            return gateway.endHeld(sessionId, SessionStatus.FAILED, null,
                    "The workflow asked to forward a request whose approval is not recorded as approved.");
        }
        ApprovalRecord record = r.get();
        Set<String> groups = new TreeSet<>(record.groupDecisions().keySet());
        return gateway.resumeApproved(sessionId, record.decidedBy(), groups);
    }

    /** The state machine's error, bounded; it names an error type, never request content. */
    private static String failure(Object error) {
        if (error instanceof Map<?, ?> m) {
            Object e = m.get("Error");
            return "The approval workflow failed (" + (e == null ? "unknown" : truncate(String.valueOf(e), 100)) + ").";
        }
        return "The approval workflow failed.";
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }
}
