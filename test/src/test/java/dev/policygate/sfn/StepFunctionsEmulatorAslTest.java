package dev.policygate.sfn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.DescribeExecutionResponse;
import software.amazon.awssdk.services.sfn.model.HistoryEvent;
import software.amazon.awssdk.services.sfn.model.HistoryEventType;
import software.amazon.awssdk.services.sfn.model.InvalidDefinitionException;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.policygate.sfn.SfnTestSupport.ROLE_ARN;
import static dev.policygate.sfn.SfnTestSupport.history;
import static dev.policygate.sfn.SfnTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ASL subset: paths, Choice, Retry and Catch, and refusal of everything outside it. */
class StepFunctionsEmulatorAslTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));
    private final RecordingLambdas lambdas = new RecordingLambdas();
    private StepFunctionsEmulator sfn;
    private SfnClient client;

    @BeforeEach
    void start() {
        lambdas.on("worker", payload -> JsonNodeFactory.instance.objectNode().put("answer", 42));
        sfn = StepFunctionsEmulator.start(clock, lambdas);
        client = sfn.newClient();
    }

    @AfterEach
    void stop() {
        sfn.close();
    }

    private DescribeExecutionResponse run(String definition, String input) throws InterruptedException {
        String machine = client.createStateMachine(b -> b.name("m").definition(resource(definition)).roleArn(ROLE_ARN))
                .stateMachineArn();
        String arn = client.startExecution(b -> b.stateMachineArn(machine).name("run").input(input)).executionArn();
        sfn.awaitTerminal(arn, WAIT);
        return client.describeExecution(b -> b.executionArn(arn));
    }

    private String start(String definition, String input) {
        String machine = client.createStateMachine(b -> b.name("m").definition(resource(definition)).roleArn(ROLE_ARN))
                .stateMachineArn();
        return client.startExecution(b -> b.stateMachineArn(machine).name("run").input(input)).executionArn();
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void passAndChoice_applyInputPathParametersContextAndOutputPath() throws Exception {
        DescribeExecutionResponse done = run("routing.asl.json", "{\"order\":{\"id\":\"vip\",\"items\":[\"a\",\"b\"]}}");

        assertThat(done.statusAsString()).isEqualTo("SUCCEEDED");
        assertThat(json(done.output())).isEqualTo(json(
                "{\"id\":\"vip\",\"second_item\":\"b\",\"fixed\":\"x\",\"execution\":\"run\"}"));
    }

    @Test
    void choice_and_matchesANumberThatIsPresent() throws Exception {
        DescribeExecutionResponse done = run("routing.asl.json", "{\"order\":{\"id\":\"n\",\"items\":[1,2]},\"total\":100}");

        assertThat(json(done.output())).isEqualTo(json("{\"route\":\"hundred\"}"));
    }

    @Test
    void choice_orAndNot_route_andResultPathNullKeepsTheInput() throws Exception {
        String input = "{\"order\":{\"id\":\"n\",\"items\":[1,2]},\"extra\":true}";

        DescribeExecutionResponse done = run("routing.asl.json", input);

        assertThat(json(done.output()).has("route")).isFalse();
        assertThat(json(done.output()).path("extra").asBoolean()).isTrue();
        assertThat(history(client, done.executionArn())).extracting(HistoryEvent::type)
                .contains(HistoryEventType.CHOICE_STATE_ENTERED, HistoryEventType.CHOICE_STATE_EXITED,
                        HistoryEventType.PASS_STATE_ENTERED, HistoryEventType.PASS_STATE_EXITED);
    }

    @Test
    void choice_default_leadsToTheFailState() throws Exception {
        DescribeExecutionResponse done = run("routing.asl.json", "{\"order\":{\"id\":\"n\",\"items\":[1,2]},\"flag\":false}");

        assertThat(done.statusAsString()).isEqualTo("FAILED");
        assertThat(done.error()).isEqualTo("NoRoute");
        assertThat(done.cause()).isEqualTo("no choice rule matched");
    }

    @Test
    void aPathThatMatchesNothing_failsTheExecutionWithStatesRuntime() throws Exception {
        DescribeExecutionResponse done = run("routing.asl.json", "{\"no_order\":true}");

        assertThat(done.statusAsString()).isEqualTo("FAILED");
        assertThat(done.error()).isEqualTo("States.Runtime");
        assertThat(done.cause()).contains("$.order");
    }

    @Test
    void lambdaInvoke_resultHasThePayloadShape_andResultSelectorPicksFromIt() throws Exception {
        DescribeExecutionResponse done = run("retry-catch.asl.json", "{\"q\":1}");

        assertThat(json(done.output())).isEqualTo(json("{\"q\":1,\"result\":{\"answer\":42,\"code\":200}}"));
        assertThat(lambdas.calls()).singleElement()
                .satisfies(c -> assertThat(c.payload()).isEqualTo(json("{\"q\":1}")));
        assertThat(history(client, done.executionArn()))
                .filteredOn(e -> e.type() == HistoryEventType.TASK_SUCCEEDED).singleElement()
                .satisfies(e -> assertThat(json(e.taskSucceededEventDetails().output())).isEqualTo(json(
                        "{\"ExecutedVersion\":\"$LATEST\",\"Payload\":{\"answer\":42},\"StatusCode\":200}")));
    }

    @Test
    void retry_waitsIntervalTimesBackoffOnTheInjectedClock_thenSucceeds() throws Exception {
        // GIVEN a worker whose first two invocations hit a Lambda service error
        lambdas.failNext("worker", LambdaInvocationException.serviceError("Lambda.ServiceException", "503"))
                .failNext("worker", LambdaInvocationException.serviceError("Lambda.ServiceException", "503"));
        String arn = start("retry-catch.asl.json", "{}");
        sfn.awaitEvents(arn, "TaskFailed", 1, WAIT);

        // WHEN the clock passes 2 s (IntervalSeconds) and then 6 s (x BackoffRate 3)
        TimeUnit.MILLISECONDS.sleep(200);
        assertThat(lambdas.calls()).as("no retry before the interval has passed").hasSize(1);
        clock.advance(Duration.ofSeconds(2));
        sfn.awaitEvents(arn, "TaskFailed", 2, WAIT);
        clock.advance(Duration.ofSeconds(5));
        TimeUnit.MILLISECONDS.sleep(200);
        assertThat(lambdas.calls()).as("the second wait is 6 s").hasSize(2);
        clock.advance(Duration.ofSeconds(1));

        // THEN the third attempt runs and the execution succeeds
        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("SUCCEEDED");
        assertThat(lambdas.calls()).hasSize(3);
        assertThat(history(client, arn)).filteredOn(e -> e.type() == HistoryEventType.TASK_SCHEDULED).hasSize(3);
    }

    @Test
    void exhaustedRetries_fallThroughToCatch_withErrorAndCauseAtResultPath() throws Exception {
        for (int i = 0; i < 3; i++) {
            lambdas.failNext("worker", LambdaInvocationException.serviceError("Lambda.ServiceException", "down"));
        }
        String arn = start("retry-catch.asl.json", "{\"q\":1}");
        sfn.awaitEvents(arn, "TaskFailed", 1, WAIT);
        clock.advance(Duration.ofSeconds(2));
        sfn.awaitEvents(arn, "TaskFailed", 2, WAIT);
        clock.advance(Duration.ofSeconds(6));

        assertThat(sfn.awaitTerminal(arn, WAIT)).isEqualTo("SUCCEEDED");
        assertThat(json(client.describeExecution(b -> b.executionArn(arn)).output())).isEqualTo(json(
                "{\"q\":1,\"error\":{\"Error\":\"Lambda.ServiceException\",\"Cause\":\"down\"}}"));
        assertThat(lambdas.calls()).hasSize(3);
    }

    @Test
    void aFunctionError_isNotRetried_andIsCaughtByStatesTaskFailed() throws Exception {
        lambdas.on("worker", payload -> {
            throw new IllegalStateException("boom");
        });

        DescribeExecutionResponse done = run("retry-catch.asl.json", "{}");

        JsonNode error = json(done.output()).path("error");
        assertThat(error.path("Error").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(json(error.path("Cause").asText()).path("errorMessage").asText()).isEqualTo("boom");
        assertThat(lambdas.calls()).hasSize(1);
    }

    @Test
    void aFunctionErrorWithAChosenType_isCaughtWithLambdasErrorJsonAsCause() throws Exception {
        lambdas.failNext("worker", LambdaInvocationException.functionError("ValidationError", "bad input"));

        DescribeExecutionResponse done = run("retry-catch.asl.json", "{}");

        JsonNode error = json(done.output()).path("error");
        assertThat(error.path("Error").asText()).isEqualTo("ValidationError");
        assertThat(json(error.path("Cause").asText()).path("errorType").asText()).isEqualTo("ValidationError");
    }

    @Test
    void errorMatching_followsTheDocumentedWildcards() {
        assertThat(ExecutionEngine.matches(List.of("States.ALL"), "Anything")).isTrue();
        assertThat(ExecutionEngine.matches(List.of("States.ALL"), "States.Runtime")).isFalse();
        assertThat(ExecutionEngine.matches(List.of("States.TaskFailed"), "Lambda.ServiceException")).isTrue();
        assertThat(ExecutionEngine.matches(List.of("States.TaskFailed"), "States.Timeout")).isFalse();
        assertThat(ExecutionEngine.matches(List.of("States.Timeout"), "States.HeartbeatTimeout")).isTrue();
        assertThat(ExecutionEngine.matches(List.of("ApprovalDenied"), "approvaldenied")).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "map-state.asl.json, Map state",
            "wait-state.asl.json, Wait state",
            "intrinsic-function.asl.json, intrinsic functions",
            "jsonata.asl.json, JSONata",
            "other-resource.asl.json, arn:aws:states:::dynamodb:putItem",
            "unknown-field.asl.json, field 'Assgin'",
            "wildcard-path.asl.json, unsupported JSONPath '$.items[*].id'",
            "missing-token.asl.json, $$.Task.Token"})
    void definitionsOutsideTheSubset_areRefusedWithInvalidDefinition(String file, String named) {
        assertThatThrownBy(() -> client.createStateMachine(b -> b.name("unsupported")
                .definition(resource("unsupported/" + file)).roleArn(ROLE_ARN)))
                .isInstanceOf(InvalidDefinitionException.class)
                .hasMessageContaining(named);
    }
}
