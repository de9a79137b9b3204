package dev.policygate.aws.sfn;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.ApprovalWorkflow;
import dev.policygate.core.approval.ApproverDirectory;
import dev.policygate.core.approval.HeldRequest;
import dev.policygate.core.json.Json;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.ExecutionAlreadyExistsException;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Starts the approval state machine ({@code statemachines/approval.asl.json}) for a held
 * request: one Standard execution per session, named after the session, so that a retried start
 * is not a second approval. The input is only the session id and the timeout: the request
 * itself is sealed in S3, and execution histories never hold prompts or emails.
 *
 * <p>Before starting, it checks that every required group has an approver other than the
 * requester, so that the caller gets a 403 at once rather than an execution that cannot end well.
 */
public final class StepFunctionsApprovalWorkflow implements ApprovalWorkflow {
    private final SfnClient sfn;
    private final String stateMachineArn;
    private final ApproverDirectory directory;
    private final Duration timeout;
    private final Clock clock;

    public StepFunctionsApprovalWorkflow(SfnClient sfn, String stateMachineArn, ApproverDirectory directory,
                                         Duration timeout, Clock clock) {
        this.sfn = sfn;
        this.stateMachineArn = stateMachineArn;
        this.directory = directory;
        this.timeout = timeout;
        this.clock = clock;
    }

    @Override
    public Instant start(HeldRequest held) throws IOException {
        try {
            ApprovalService.resolveApprovers(directory, held.groups(), held.principal().id(), held.principal().email());
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        ObjectNode input = Json.mapper().createObjectNode();
        input.put("session_id", held.sessionId());
        input.putObject("approval").put("timeout_seconds", timeout.toSeconds());
        Instant now = clock.instant();
        try {
            sfn.startExecution(b -> b.stateMachineArn(stateMachineArn).name(held.sessionId()).input(input.toString()));
        } catch (ExecutionAlreadyExistsException e) {
            // a retry of a start that went through: the same session, the same approval
        } catch (SdkException e) {
            throw new IOException("Step Functions StartExecution failed: " + e.getClass().getSimpleName(), e);
        }
        return now.plus(timeout);
    }
}
