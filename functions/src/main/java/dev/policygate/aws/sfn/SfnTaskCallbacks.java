package dev.policygate.aws.sfn;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.approval.ApprovalListener;
import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.json.Json;
import software.amazon.awssdk.services.sfn.SfnClient;

import java.util.TreeSet;

/**
 * Resumes the approval state machine when an approver decides: {@code SendTaskSuccess} with
 * {@code {"decision":"APPROVED", ...}} for an approval, {@code SendTaskFailure} with the error
 * {@value #DENIED} for a denial. Expiry is the state machine's own timer, so nothing is sent
 * then. A failure (the task already timed out, Step Functions unreachable) is thrown, and the
 * approver's page says the decision was not delivered.
 */
public final class SfnTaskCallbacks implements ApprovalListener {
    public static final String DENIED = "ApprovalDenied";
    private final SfnClient sfn;

    public SfnTaskCallbacks(SfnClient sfn) {
        this.sfn = sfn;
    }

    @Override
    public void onApproved(ApprovalRecord record) {
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("decision", "APPROVED");
        out.put("approval_id", record.approvalId());
        out.put("approver", record.decidedBy());
        ArrayNode groups = out.putArray("groups");
        new TreeSet<>(record.groupDecisions().keySet()).forEach(groups::add);
        sfn.sendTaskSuccess(b -> b.taskToken(token(record)).output(out.toString()));
    }

    @Override
    public void onDenied(ApprovalRecord record) {
        // the approver's identity stays in the approval record, not in the execution history
        sfn.sendTaskFailure(b -> b.taskToken(token(record)).error(DENIED)
                .cause("An approver denied approval " + record.approvalId() + "."));
    }

    @Override
    public void onExpired(ApprovalRecord record) {
        // the state machine's TimeoutSeconds ended it; nothing to send
    }

    private static String token(ApprovalRecord record) {
        if (record.taskToken() == null) {
            throw new IllegalStateException("approval " + record.approvalId() + " has no task token");
        }
        return record.taskToken();
    }
}
