package dev.policygate.aws.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import dev.policygate.aws.logging.LambdaLogging;
import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.HeldRequest;
import dev.policygate.core.approval.HeldRequestStore;
import dev.policygate.core.session.SessionIds;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.logging.Logger;

/**
 * The state machine's RequestApproval task ({@code lambda:invoke.waitForTaskToken}): opens the
 * approval of a held session, stores the task token with the PENDING record in DynamoDB, and
 * emails each approver their own signed link through SES. It returns at once; the state machine
 * waits for the callback. A retried invocation finds the session's approval and sends the same
 * links again with the new token, never a second approval.
 *
 * <p>Input: {@code {"action":"notify","session_id":...,"task_token":...}}. Output:
 * {@code {"approval_id":...,"approvers":<count>}}. Any failure is thrown, so that the task fails
 * and the workflow records the session as failed.
 */
public final class ApprovalNotifierHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    static {
        LambdaLogging.install();
    }

    private static final Logger LOG = Logger.getLogger(ApprovalNotifierHandler.class.getName());
    static final int MAX_TOKEN_LENGTH = 1024;
    private final ApprovalService approvals;
    private final HeldRequestStore held;

    public ApprovalNotifierHandler() {
        this(LambdaWiring.production(AwsSettings.fromEnvironment(System.getenv()),
                ApprovalSettings.fromEnvironment(System.getenv(), ApprovalSettings.Role.NOTIFIER),
                ApprovalSettings.Role.NOTIFIER));
    }

    /** A function wired by {@link LambdaWiring} (tests wire it over emulators). */
    public ApprovalNotifierHandler(LambdaWiring.Wired wired) {
        this(wired.approvals(), wired.held());
    }

    /** For tests. */
    public ApprovalNotifierHandler(ApprovalService approvals, HeldRequestStore held) {
        this.approvals = Objects.requireNonNull(approvals, "approvals");
        this.held = Objects.requireNonNull(held, "held");
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> input, Context context) {
        String sessionId = TaskInput.sessionId(input);
        return LambdaLogging.invocation(context, sessionId, () -> notify(sessionId, input));
    }

    private Map<String, Object> notify(String sessionId, Map<String, Object> input) {
        Object token = input.get("task_token");
        if (!(token instanceof String t) || t.isEmpty() || t.length() > MAX_TOKEN_LENGTH) {
            throw new IllegalArgumentException("task_token: required, at most " + MAX_TOKEN_LENGTH + " characters");
        }
        try {
            HeldRequest request = held.get(sessionId).orElseThrow(
                    () -> new IllegalStateException("session " + sessionId + " has no held request"));
            ApprovalRecord record = approvals.open(request.hold(), t);
            LOG.info("session " + sessionId + ": approval " + record.approvalId() + " " + record.state() + ", "
                    + record.approvers().size() + " approver(s) notified");
            return Map.of("approval_id", record.approvalId(), "approvers", record.approvers().size());
        } catch (IOException e) {
            throw new UncheckedIOException("session " + sessionId + ": the approval could not be opened", e);
        }
    }

    /** Checks what the state machine passes in. */
    static final class TaskInput {
        private TaskInput() {
        }

        static String sessionId(Map<String, Object> input) {
            if (input == null || !(input.get("session_id") instanceof String id) || !SessionIds.isValid(id)) {
                throw new IllegalArgumentException("session_id: required, a Policygate session id");
            }
            return id;
        }
    }
}
