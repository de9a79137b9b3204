package dev.policygate.sfn;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.DescribeExecutionResponse;
import software.amazon.awssdk.services.sfn.model.ExecutionAlreadyExistsException;
import software.amazon.awssdk.services.sfn.model.ExecutionDoesNotExistException;
import software.amazon.awssdk.services.sfn.model.ExecutionStatus;
import software.amazon.awssdk.services.sfn.model.GetExecutionHistoryResponse;
import software.amazon.awssdk.services.sfn.model.HistoryEvent;
import software.amazon.awssdk.services.sfn.model.HistoryEventType;
import software.amazon.awssdk.services.sfn.model.InvalidArnException;
import software.amazon.awssdk.services.sfn.model.InvalidDefinitionException;
import software.amazon.awssdk.services.sfn.model.InvalidOutputException;
import software.amazon.awssdk.services.sfn.model.InvalidTokenException;
import software.amazon.awssdk.services.sfn.model.SfnException;
import software.amazon.awssdk.services.sfn.model.StateMachineAlreadyExistsException;
import software.amazon.awssdk.services.sfn.model.StateMachineDoesNotExistException;
import software.amazon.awssdk.services.sfn.model.TaskDoesNotExistException;
import software.amazon.awssdk.services.sfn.model.TaskTimedOutException;

import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.policygate.sfn.SfnTestSupport.ROLE_ARN;
import static dev.policygate.sfn.SfnTestSupport.awaitCalls;
import static dev.policygate.sfn.SfnTestSupport.history;
import static dev.policygate.sfn.SfnTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each protocol operation through the real SfnClient, with the typed errors the SDK raises. */
class StepFunctionsEmulatorProtocolTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));
    private final RecordingLambdas lambdas = new RecordingLambdas();
    private StepFunctionsEmulator sfn;
    private SfnClient client;

    @BeforeEach
    void start() {
        lambdas.on("notifier", payload -> JsonNodeFactory.instance.objectNode().put("notified", true));
        sfn = StepFunctionsEmulator.start(clock, lambdas);
        client = sfn.newClient();
    }

    @AfterEach
    void stop() {
        sfn.close();
    }

    private String createCallbackMachine() {
        return client.createStateMachine(b -> b.name("callback").definition(resource("callback.asl.json"))
                .roleArn(ROLE_ARN)).stateMachineArn();
    }

    private String startAndAwaitToken(String machineArn, String name) throws InterruptedException {
        int before = lambdas.calls().size();
        client.startExecution(b -> b.stateMachineArn(machineArn).name(name).input("{\"who\":\"ana\"}"));
        return SfnTestSupport.text(awaitCalls(lambdas, before + 1).get(before).payload(), "task_token");
    }

    private String executionArn(String name) {
        return "arn:aws:states:us-east-1:123456789012:execution:callback:" + name;
    }

    @Test
    void createStateMachine_returnsArn_andIsIdempotentForTheSameDefinition() {
        String arn = createCallbackMachine();

        assertThat(arn).isEqualTo("arn:aws:states:us-east-1:123456789012:stateMachine:callback");
        assertThat(createCallbackMachine()).isEqualTo(arn);
        assertThatThrownBy(() -> client.createStateMachine(b -> b.name("callback")
                .definition(resource("heartbeat.asl.json")).roleArn(ROLE_ARN)))
                .isInstanceOf(StateMachineAlreadyExistsException.class);
    }

    @Test
    void createStateMachine_failsWithInvalidDefinition_whenTheDefinitionIsNotJson() {
        assertThatThrownBy(() -> client.createStateMachine(b -> b.name("broken").definition("{not json")
                .roleArn(ROLE_ARN)))
                .isInstanceOf(InvalidDefinitionException.class)
                .hasMessageContaining("INVALID_JSON_DESCRIPTION");
    }

    @Test
    void sendTaskSuccess_completesTheTask_andTheTokenIsSingleUse() throws Exception {
        // GIVEN an execution waiting on its callback
        String token = startAndAwaitToken(createCallbackMachine(), "ok");
        assertThat(token).matches("[A-Za-z0-9_-]{43}");

        // WHEN the callback arrives
        client.sendTaskSuccess(b -> b.taskToken(token).output("{\"decision\":\"APPROVED\"}"));

        // THEN the execution succeeds with the output at ResultPath, and the token is spent
        assertThat(sfn.awaitTerminal(executionArn("ok"), WAIT)).isEqualTo("SUCCEEDED");
        DescribeExecutionResponse done = client.describeExecution(b -> b.executionArn(executionArn("ok")));
        assertThat(done.status()).isEqualTo(ExecutionStatus.SUCCEEDED);
        assertThat(done.output()).isEqualTo("{\"who\":\"ana\",\"callback\":{\"decision\":\"APPROVED\"}}");
        assertThat(done.startDate()).isEqualTo(clock.instant());
        assertThat(done.stopDate()).isEqualTo(clock.instant());
        assertThatThrownBy(() -> client.sendTaskSuccess(b -> b.taskToken(token).output("{}")))
                .isInstanceOf(TaskTimedOutException.class)
                .hasMessageContaining("Provided task does not exist anymore");
    }

    @Test
    void theLambdaPayload_carriesTheExecutionIdAndAFreshUnguessableToken() throws Exception {
        String machine = createCallbackMachine();
        String first = startAndAwaitToken(machine, "one");
        String second = startAndAwaitToken(machine, "two");

        assertThat(first).isNotEqualTo(second);
        assertThat(lambdas.calls().get(0).payload().path("execution_id").asText()).isEqualTo(executionArn("one"));
        assertThat(lambdas.calls().get(0).payload().path("who").asText()).isEqualTo("ana");
    }

    @Test
    void sendTaskSuccess_rejectsUnknownMalformedTokensAndNonJsonOutput() throws Exception {
        String token = startAndAwaitToken(createCallbackMachine(), "tokens");
        String unknown = "A".repeat(43);

        assertThatThrownBy(() -> client.sendTaskSuccess(b -> b.taskToken(unknown).output("{}")))
                .isInstanceOf(TaskDoesNotExistException.class);
        assertThatThrownBy(() -> client.sendTaskSuccess(b -> b.taskToken("not a token").output("{}")))
                .isInstanceOf(InvalidTokenException.class);
        assertThatThrownBy(() -> client.sendTaskSuccess(b -> b.taskToken(token).output("not json")))
                .isInstanceOf(InvalidOutputException.class);
        assertThat(client.describeExecution(b -> b.executionArn(executionArn("tokens"))).status())
                .isEqualTo(ExecutionStatus.RUNNING);
    }

    @Test
    void sendTaskFailure_withoutCatch_failsTheExecutionWithThatErrorAndCause() throws Exception {
        String token = startAndAwaitToken(createCallbackMachine(), "denied");

        client.sendTaskFailure(b -> b.taskToken(token).error("ApprovalDenied").cause("denied by ana"));

        assertThat(sfn.awaitTerminal(executionArn("denied"), WAIT)).isEqualTo("FAILED");
        DescribeExecutionResponse done = client.describeExecution(b -> b.executionArn(executionArn("denied")));
        assertThat(done.error()).isEqualTo("ApprovalDenied");
        assertThat(done.cause()).isEqualTo("denied by ana");
        assertThatThrownBy(() -> client.sendTaskFailure(b -> b.taskToken(token).error("again")))
                .isInstanceOf(TaskTimedOutException.class);
    }

    @Test
    void aCallbackArrivingBeforeTheLambdaReturns_completesTheTask() throws Exception {
        // GIVEN a notifier that calls back before it returns, as a fast approver would
        lambdas.on("notifier", payload -> {
            client.sendTaskSuccess(b -> b.taskToken(payload.path("task_token").asText()).output("{\"fast\":true}"));
            return JsonNodeFactory.instance.objectNode().put("ignored", true);
        });
        String machine = createCallbackMachine();

        client.startExecution(b -> b.stateMachineArn(machine).name("fast").input("{\"who\":\"ana\"}"));

        assertThat(sfn.awaitTerminal(executionArn("fast"), WAIT)).isEqualTo("SUCCEEDED");
        assertThat(client.describeExecution(b -> b.executionArn(executionArn("fast"))).output())
                .isEqualTo("{\"who\":\"ana\",\"callback\":{\"fast\":true}}");
    }

    @Test
    void theTaskTimesOut_onTheInjectedClock_andItsTokenIsThenTimedOut() throws Exception {
        String token = startAndAwaitToken(createCallbackMachine(), "late");

        clock.advance(Duration.ofSeconds(61));

        assertThat(sfn.awaitTerminal(executionArn("late"), WAIT)).isEqualTo("FAILED");
        assertThat(client.describeExecution(b -> b.executionArn(executionArn("late"))).error())
                .isEqualTo("States.Timeout");
        assertThat(history(client, executionArn("late"))).extracting(HistoryEvent::type)
                .contains(HistoryEventType.TASK_TIMED_OUT);
        assertThatThrownBy(() -> client.sendTaskSuccess(b -> b.taskToken(token).output("{}")))
                .isInstanceOf(TaskTimedOutException.class);
    }

    @Test
    void sendTaskHeartbeat_keepsTheTaskAlive_untilHeartbeatsStop() throws Exception {
        String machine = client.createStateMachine(b -> b.name("heartbeat").definition(resource("heartbeat.asl.json"))
                .roleArn(ROLE_ARN)).stateMachineArn();
        client.startExecution(b -> b.stateMachineArn(machine).name("hb"));
        String token = awaitCalls(lambdas, 1).get(0).payload().path("task_token").asText();
        String arn = "arn:aws:states:us-east-1:123456789012:execution:heartbeat:hb";

        clock.advance(Duration.ofSeconds(8));
        client.sendTaskHeartbeat(b -> b.taskToken(token));
        clock.advance(Duration.ofSeconds(8));
        TimeUnit.MILLISECONDS.sleep(200); // several ticks: a missed heartbeat would have been noticed
        assertThat(client.describeExecution(b -> b.executionArn(arn)).status()).isEqualTo(ExecutionStatus.RUNNING);

        clock.advance(Duration.ofSeconds(3));
        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("FAILED");
        assertThat(client.describeExecution(b -> b.executionArn(arn)).error()).isEqualTo("States.HeartbeatTimeout");
    }

    @Test
    void theExecutionTimesOut_onTheTopLevelTimeoutSeconds() throws Exception {
        String machine = client.createStateMachine(b -> b.name("bounded")
                .definition(resource("execution-timeout.asl.json")).roleArn(ROLE_ARN)).stateMachineArn();
        String arn = client.startExecution(b -> b.stateMachineArn(machine)).executionArn();
        sfn.awaitEvent(arn, "TaskScheduled", WAIT);

        clock.advance(Duration.ofSeconds(30));

        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("TIMED_OUT");
        assertThat(history(client, arn).get(history(client, arn).size() - 1).type())
                .isEqualTo(HistoryEventType.EXECUTION_TIMED_OUT);
    }

    @Test
    void stopExecution_abortsIt_andSpendsItsToken() throws Exception {
        String token = startAndAwaitToken(createCallbackMachine(), "stopped");

        client.stopExecution(b -> b.executionArn(executionArn("stopped")).error("Cancelled").cause("by test"));

        DescribeExecutionResponse done = client.describeExecution(b -> b.executionArn(executionArn("stopped")));
        assertThat(done.status()).isEqualTo(ExecutionStatus.ABORTED);
        assertThat(done.error()).isEqualTo("Cancelled");
        assertThat(history(client, executionArn("stopped")).get(history(client, executionArn("stopped")).size() - 1)
                .executionAbortedEventDetails().cause()).isEqualTo("by test");
        assertThatThrownBy(() -> client.sendTaskSuccess(b -> b.taskToken(token).output("{}")))
                .isInstanceOf(TaskTimedOutException.class);
    }

    @Test
    void startExecution_withTheSameName_isIdempotentWhileRunning_elseExecutionAlreadyExists() throws Exception {
        String machine = createCallbackMachine();
        startAndAwaitToken(machine, "once");

        String again = client.startExecution(b -> b.stateMachineArn(machine).name("once").input("{\"who\":\"ana\"}"))
                .executionArn();

        assertThat(again).isEqualTo(executionArn("once"));
        assertThatThrownBy(() -> client.startExecution(b -> b.stateMachineArn(machine).name("once").input("{}")))
                .isInstanceOf(ExecutionAlreadyExistsException.class);
    }

    @Test
    void unknownResources_areTypedErrors() {
        String missingMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:nope";

        assertThatThrownBy(() -> client.startExecution(b -> b.stateMachineArn(missingMachine)))
                .isInstanceOf(StateMachineDoesNotExistException.class);
        assertThatThrownBy(() -> client.startExecution(b -> b.stateMachineArn("not-an-arn")))
                .isInstanceOf(InvalidArnException.class);
        assertThatThrownBy(() -> client.describeExecution(b -> b.executionArn(executionArn("nope"))))
                .isInstanceOf(ExecutionDoesNotExistException.class);
        assertThatThrownBy(() -> client.getExecutionHistory(b -> b.executionArn(executionArn("nope"))))
                .isInstanceOf(ExecutionDoesNotExistException.class);
    }

    @Test
    void getExecutionHistory_listsTheEventsInOrder_withPagingReverseOrderAndDataOmitted() throws Exception {
        String token = startAndAwaitToken(createCallbackMachine(), "history");
        sfn.awaitEvent(executionArn("history"), "TaskSubmitted", WAIT);
        client.sendTaskSuccess(b -> b.taskToken(token).output("{\"ok\":1}"));
        sfn.awaitTerminal(executionArn("history"), WAIT);

        List<HistoryEvent> events = history(client, executionArn("history"));
        assertThat(events).extracting(HistoryEvent::type).containsExactly(
                HistoryEventType.EXECUTION_STARTED, HistoryEventType.TASK_STATE_ENTERED,
                HistoryEventType.TASK_SCHEDULED, HistoryEventType.TASK_STARTED, HistoryEventType.TASK_SUBMITTED,
                HistoryEventType.TASK_SUCCEEDED, HistoryEventType.TASK_STATE_EXITED,
                HistoryEventType.EXECUTION_SUCCEEDED);
        assertThat(events).extracting(HistoryEvent::id).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
        assertThat(events.get(0).timestamp()).isEqualTo(clock.instant());
        assertThat(events.get(0).executionStartedEventDetails().input()).isEqualTo("{\"who\":\"ana\"}");
        assertThat(events.get(2).taskScheduledEventDetails().resource()).isEqualTo("invoke.waitForTaskToken");
        assertThat(events.get(2).taskScheduledEventDetails().timeoutInSeconds()).isEqualTo(60L);
        assertThat(events.get(4).taskSubmittedEventDetails().output())
                .isEqualTo("{\"ExecutedVersion\":\"$LATEST\",\"Payload\":{\"notified\":true},\"StatusCode\":200}");
        assertThat(events.get(5).taskSucceededEventDetails().output()).isEqualTo("{\"ok\":1}");
        assertThat(events.get(7).executionSucceededEventDetails().output())
                .isEqualTo("{\"who\":\"ana\",\"callback\":{\"ok\":1}}");

        GetExecutionHistoryResponse firstPage = client.getExecutionHistory(b -> b.executionArn(executionArn("history"))
                .maxResults(3).reverseOrder(true).includeExecutionData(false));
        assertThat(firstPage.events()).extracting(HistoryEvent::id).containsExactly(8L, 7L, 6L);
        assertThat(firstPage.events().get(0).executionSucceededEventDetails().output()).isNull();
        assertThat(firstPage.nextToken()).isNotNull();
        GetExecutionHistoryResponse secondPage = client.getExecutionHistory(b -> b.executionArn(executionArn("history"))
                .maxResults(3).reverseOrder(true).nextToken(firstPage.nextToken()));
        assertThat(secondPage.events()).extracting(HistoryEvent::id).containsExactly(5L, 4L, 3L);
    }

    @Test
    void operationsAndFieldsOutsideTheSubset_failLoudly() {
        assertThatThrownBy(() -> client.listExecutions(b -> b.stateMachineArn("arn:aws:states:::x")))
                .isInstanceOf(SfnException.class)
                .hasMessageContaining("ListExecutions is not supported");
        String machine = createCallbackMachine();
        assertThatThrownBy(() -> client.startExecution(b -> b.stateMachineArn(machine).traceHeader("Root=1")))
                .isInstanceOf(SfnException.class)
                .hasMessageContaining("'traceHeader'");
    }

    @Test
    void close_stopsTheServerAndItsThreads() throws Exception {
        int port = sfn.endpoint().getPort();
        startAndAwaitToken(createCallbackMachine(), "closing");

        sfn.close();

        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        assertThat(Thread.getAllStackTraces().keySet()).filteredOn(Thread::isAlive)
                .extracting(Thread::getName).noneMatch(name -> name.startsWith("sfn-emulator-"));
    }
}
