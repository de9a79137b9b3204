package dev.policygate.sfn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.DescribeExecutionResponse;
import software.amazon.awssdk.services.sfn.model.HistoryEvent;
import software.amazon.awssdk.services.sfn.model.HistoryEventType;
import software.amazon.awssdk.services.sfn.model.TaskTimedOutException;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.policygate.sfn.SfnTestSupport.ROLE_ARN;
import static dev.policygate.sfn.SfnTestSupport.history;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Our statemachines/approval.asl.json run on the emulator with stub Lambdas: which terminal state each
 * path reaches and which Lambda calls it makes.
 */
class ApprovalStateMachineTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NOTIFIER = SfnTestSupport.sampleFunctionArn("NotifierFunctionArn");
    private static final String FORWARD = SfnTestSupport.sampleFunctionArn("ForwardFunctionArn");
    private static final String INPUT = "{\"session_id\":\"s-1\",\"approval\":{\"timeout_seconds\":300}}";

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));
    private final RecordingLambdas lambdas = new RecordingLambdas();
    private StepFunctionsEmulator sfn;
    private SfnClient client;
    private String machineArn;

    @BeforeEach
    void start() {
        lambdas.on(FORWARD, payload -> JsonNodeFactory.instance.objectNode()
                .put("status", payload.path("action").asText().toUpperCase() + "_RECORDED"));
        sfn = StepFunctionsEmulator.start(clock, lambdas);
        client = sfn.newClient();
        machineArn = client.createStateMachine(b -> b.name("policygate-approval")
                .definition(SfnTestSupport.approvalDefinition()).roleArn(ROLE_ARN)).stateMachineArn();
    }

    @AfterEach
    void stop() {
        sfn.close();
    }

    private String startApproval() {
        return client.startExecution(b -> b.stateMachineArn(machineArn).name("s-1").input(INPUT)).executionArn();
    }

    private void notifierCallsBack(String decision) {
        lambdas.on(NOTIFIER, payload -> {
            client.sendTaskSuccess(b -> b.taskToken(payload.path("task_token").asText())
                    .output("{\"decision\":\"" + decision + "\",\"approver\":\"ana@example.com\"}"));
            return JsonNodeFactory.instance.objectNode().put("emailed", 1);
        });
    }

    private void notifierOnlyNotifies() {
        lambdas.on(NOTIFIER, payload -> JsonNodeFactory.instance.objectNode().put("emailed", 1));
    }

    private String lastSucceedState(String executionArn) {
        return history(client, executionArn).stream()
                .filter(e -> e.type() == HistoryEventType.SUCCEED_STATE_ENTERED)
                .map(e -> e.stateEnteredEventDetails().name()).reduce((a, b) -> b).orElse(null);
    }

    private List<String> actions() {
        return lambdas.calls().stream().map(c -> c.functionName().equals(NOTIFIER) ? "notifier:" + c.payload()
                .path("action").asText() : "forward:" + c.payload().path("action").asText()).toList();
    }

    private JsonNode output(String executionArn) throws Exception {
        return JSON.readTree(client.describeExecution(b -> b.executionArn(executionArn)).output());
    }

    @Test
    void approved_forwardsOnce_andEndsInCompleted() throws Exception {
        // GIVEN an approver who approves at once (the callback arrives before the notifier returns)
        notifierCallsBack("APPROVED");

        // WHEN the gateway starts an approval
        String arn = startApproval();

        // THEN the request is forwarded with the decision and the flow ends in Completed
        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("SUCCEEDED");
        assertThat(lastSucceedState(arn)).isEqualTo("Completed");
        assertThat(actions()).containsExactly("notifier:notify", "forward:forward");
        JsonNode notify = lambdas.callsTo(NOTIFIER).get(0).payload();
        assertThat(notify.path("session_id").asText()).isEqualTo("s-1");
        assertThat(notify.path("timeout_seconds").asInt()).isEqualTo(300);
        assertThat(notify.path("execution_id").asText()).isEqualTo(arn);
        assertThat(notify.path("task_token").asText()).hasSize(43);
        assertThat(lambdas.callsTo(FORWARD).get(0).payload().path("approval").path("approver").asText())
                .isEqualTo("ana@example.com");
        assertThat(output(arn).path("outcome").path("status").asText()).isEqualTo("FORWARD_RECORDED");
    }

    @Test
    void denied_recordsTheDenial_andEndsInRejected() throws Exception {
        lambdas.on(NOTIFIER, payload -> {
            client.sendTaskFailure(b -> b.taskToken(payload.path("task_token").asText()).error("ApprovalDenied")
                    .cause("denied by ana@example.com"));
            return JsonNodeFactory.instance.objectNode();
        });

        String arn = startApproval();

        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("SUCCEEDED");
        assertThat(lastSucceedState(arn)).isEqualTo("Rejected");
        assertThat(actions()).containsExactly("notifier:notify", "forward:deny");
        assertThat(output(arn).path("error").path("Error").asText()).isEqualTo("ApprovalDenied");
        assertThat(output(arn).path("error").path("Cause").asText()).isEqualTo("denied by ana@example.com");
    }

    @Test
    void aSuccessThatIsNotApproved_isTreatedAsDenied() throws Exception {
        notifierCallsBack("REJECTED");

        String arn = startApproval();

        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("SUCCEEDED");
        assertThat(lastSucceedState(arn)).isEqualTo("Rejected");
        assertThat(actions()).containsExactly("notifier:notify", "forward:deny");
    }

    @Test
    void noDecisionWithinTimeoutSeconds_recordsTheExpiry_andEndsInTimedOut() throws Exception {
        // GIVEN an approval the approvers never answer
        notifierOnlyNotifies();
        String arn = startApproval();
        sfn.awaitEvent(arn, "TaskSubmitted", WAIT);
        String token = lambdas.callsTo(NOTIFIER).get(0).payload().path("task_token").asText();

        // WHEN the clock passes the input's approval.timeout_seconds (300 s)
        clock.advance(Duration.ofSeconds(299));
        TimeUnit.MILLISECONDS.sleep(200);
        assertThat(client.describeExecution(b -> b.executionArn(arn)).statusAsString()).isEqualTo("RUNNING");
        clock.advance(Duration.ofSeconds(1));

        // THEN the flow records the expiry, ends in TimedOut, and a late click finds the task gone
        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("SUCCEEDED");
        assertThat(lastSucceedState(arn)).isEqualTo("TimedOut");
        assertThat(actions()).containsExactly("notifier:notify", "forward:expire");
        assertThat(output(arn).path("error").path("Error").asText()).isEqualTo("States.Timeout");
        assertThatThrownBy(() -> client.sendTaskSuccess(b -> b.taskToken(token).output("{\"decision\":\"APPROVED\"}")))
                .isInstanceOf(TaskTimedOutException.class);
    }

    @Test
    void aLambdaServiceErrorOnNotify_isRetriedWithAFreshToken() throws Exception {
        lambdas.failNext(NOTIFIER, LambdaInvocationException.serviceError("Lambda.ServiceException", "503"));
        notifierCallsBack("APPROVED");
        String arn = startApproval();
        sfn.awaitEvent(arn, "TaskFailed", WAIT);

        clock.advance(Duration.ofSeconds(2)); // IntervalSeconds 2 with FULL jitter waits at most 2 s

        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("SUCCEEDED");
        assertThat(lastSucceedState(arn)).isEqualTo("Completed");
        assertThat(actions()).containsExactly("notifier:notify", "notifier:notify", "forward:forward");
        assertThat(lambdas.callsTo(NOTIFIER).get(0).payload().path("task_token").asText())
                .isNotEqualTo(lambdas.callsTo(NOTIFIER).get(1).payload().path("task_token").asText());
    }

    @Test
    void aForwardFunctionError_recordsTheFailure_andFailsWithApprovalFlowFailed() throws Exception {
        notifierCallsBack("APPROVED");
        lambdas.failNext(FORWARD, LambdaInvocationException.functionError("UpstreamError", "Claude unavailable"));

        String arn = startApproval();

        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("FAILED");
        DescribeExecutionResponse done = client.describeExecution(b -> b.executionArn(arn));
        assertThat(done.error()).isEqualTo("ApprovalFlowFailed");
        assertThat(actions()).containsExactly("notifier:notify", "forward:forward", "forward:fail");
        assertThat(lambdas.callsTo(FORWARD).get(1).payload().path("error").path("Error").asText())
                .isEqualTo("UpstreamError");
        assertThat(history(client, arn)).extracting(HistoryEvent::type).last()
                .isEqualTo(HistoryEventType.EXECUTION_FAILED);
    }
}
