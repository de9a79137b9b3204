package dev.policygate.sfn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sfn.SfnClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A small in-process AWS Step Functions emulator for tests. It speaks the JSON 1.0 protocol
 * ({@code POST /}, {@code X-Amz-Target: AWSStepFunctions.<Operation>}) on 127.0.0.1 and an ephemeral
 * port, so the real SDK v2 {@link SfnClient} works against it, and it runs Lambda tasks through an
 * in-process {@link LambdaDispatcher}. It exists to run {@code statemachines/approval.asl.json} end to
 * end; it is not a general Step Functions.
 *
 * <pre>{@code
 * MutableClock clock = MutableClock.startingNow();
 * RecordingLambdas lambdas = new RecordingLambdas().on("arn:...:function:notifier", payload -> ...);
 * try (StepFunctionsEmulator sfn = StepFunctionsEmulator.start(clock, lambdas);
 *      SfnClient client = sfn.newClient()) {
 *     String arn = client.createStateMachine(...).stateMachineArn();
 *     String exec = client.startExecution(...).executionArn();
 *     clock.advance(Duration.ofMinutes(10));               // fires TimeoutSeconds within ~20 ms
 *     String status = sfn.awaitTerminal(exec, Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <h2>Supported</h2>
 * <ul>
 * <li>Operations: CreateStateMachine (name, definition, roleArn, type STANDARD; same name and definition
 * again is idempotent, else StateMachineAlreadyExists), StartExecution (name optional; same name again is
 * idempotent only while RUNNING with the same input, else ExecutionAlreadyExists), DescribeExecution,
 * StopExecution (ABORTED; on an ended execution it changes nothing), SendTaskSuccess, SendTaskFailure,
 * SendTaskHeartbeat, GetExecutionHistory (maxResults, nextToken, reverseOrder, includeExecutionData).</li>
 * <li>Errors as HTTP 400 {@code {"__type","message"}}, so the SDK throws the modeled exceptions:
 * InvalidDefinition, InvalidName, InvalidArn, InvalidExecutionInput, InvalidOutput, InvalidToken,
 * StateMachineAlreadyExists, StateMachineDoesNotExist, ExecutionAlreadyExists, ExecutionDoesNotExist,
 * TaskDoesNotExist, TaskTimedOut, ValidationException (missing or unsupported request fields).</li>
 * <li>Task tokens: 256 random bits from SecureRandom, base64url, a fresh one per attempt. A malformed token
 * is InvalidToken, a well-formed token never issued is TaskDoesNotExist, and a token whose task has ended
 * (succeeded, failed, timed out, aborted) is TaskTimedOut "Provided task does not exist anymore", as on
 * AWS, so tokens are single-use.</li>
 * <li>States: Task, Choice, Pass, Succeed, Fail. Task resources {@code arn:aws:states:::lambda:invoke}
 * (result {@code {"ExecutedVersion":"$LATEST","Payload":...,"StatusCode":200}}) and
 * {@code arn:aws:states:::lambda:invoke.waitForTaskToken} (result = the SendTaskSuccess output; the
 * function's return value only goes into the TaskSubmitted event; the callback may arrive before the
 * function returns; the function failing fails the task). Parameters FunctionName and Payload only.</li>
 * <li>JSONPath: InputPath, Parameters and ResultSelector with {@code "key.$"} fields (including
 * {@code $$.Execution.Id/Name/StartTime/Input/RoleArn}, {@code $$.State.Name/EnteredTime/RetryCount},
 * {@code $$.StateMachine.Id/Name}, {@code $$.Task.Token}), ResultPath (including null), OutputPath (null
 * gives {}); paths are {@code $}, {@code .field}, {@code ['field']}, {@code [index]}.</li>
 * <li>Choice: And, Or, Not, StringEquals, NumericEquals, NumericLessThan(Equals),
 * NumericGreaterThan(Equals), BooleanEquals, IsPresent, IsNull, IsString, IsNumeric, IsBoolean; Default;
 * no match and no Default fails with States.NoChoiceMatched.</li>
 * <li>Task TimeoutSeconds, TimeoutSecondsPath (read from the input after InputPath), HeartbeatSeconds
 * and the top-level TimeoutSeconds, all measured on the injected {@link Clock} (checked every 20 ms).
 * No timeout when none is given.</li>
 * <li>Retry (ErrorEquals, IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds, JitterStrategy
 * FULL/NONE): the wait is measured on the injected clock, so a test advances the clock to let a retry
 * happen. Catch (ErrorEquals, ResultPath with {@code {"Error","Cause"}} (Cause omitted when there is
 * none), Next). States.ALL matches everything but States.Runtime; States.TaskFailed matches everything
 * but States.Timeout and States.HeartbeatTimeout; States.Timeout also matches States.HeartbeatTimeout.
 * Path failures are States.Runtime and end the execution; a ResultPath that cannot be applied is
 * States.ResultPathMatchFailure.</li>
 * <li>History events: ExecutionStarted/Succeeded/Failed/TimedOut/Aborted, TaskStateEntered/Exited,
 * TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded, TaskFailed, TaskTimedOut,
 * Choice/Pass/SucceedStateEntered and Exited, FailStateEntered, with the SDK model's detail fields.
 * Timestamps are epoch seconds with milliseconds.</li>
 * </ul>
 *
 * <h2>Not supported (refused loudly)</h2>
 * Map, Parallel and Wait states; every Task resource other than the two Lambda ones; Lambda parameters
 * other than FunctionName and Payload; intrinsic functions ({@code States.Format} ...); JSONata,
 * variables (Assign, Arguments, Output); wildcards, {@code ..}, filters and slices in paths; Credentials,
 * HeartbeatSecondsPath, ErrorPath, CausePath; unknown fields anywhere in a definition (all of these make
 * CreateStateMachine fail with InvalidDefinition naming the feature). EXPRESS state machines, activities,
 * versions and aliases, redrive, tags, logging and tracing, and every operation not listed above
 * (UnknownOperationException). Request fields the emulator does not implement are a ValidationException.
 * Region and account are fixed: us-east-1, 123456789012. There is no IAM, and nothing is persisted.
 */
public final class StepFunctionsEmulator implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StepFunctionsEmulator.class.getName());
    private static final String TARGET_PREFIX = "AWSStepFunctions.";
    private static final String CONTENT_TYPE = "application/x-amz-json-1.0";
    private static final Map<String, Set<String>> FIELDS = Map.of(
            "CreateStateMachine", Set.of("name", "definition", "roleArn", "type"),
            "StartExecution", Set.of("stateMachineArn", "name", "input"),
            "DescribeExecution", Set.of("executionArn"),
            "StopExecution", Set.of("executionArn", "error", "cause"),
            "GetExecutionHistory", Set.of("executionArn", "maxResults", "reverseOrder", "nextToken",
                    "includeExecutionData"),
            "SendTaskSuccess", Set.of("taskToken", "output"),
            "SendTaskFailure", Set.of("taskToken", "error", "cause"),
            "SendTaskHeartbeat", Set.of("taskToken"));

    private final HttpServer server;
    private final ExecutorService httpThreads;
    private final ExecutionEngine engine;
    private final List<SfnClient> clients = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private StepFunctionsEmulator(HttpServer server, ExecutorService httpThreads, ExecutionEngine engine) {
        this.server = server;
        this.httpThreads = httpThreads;
        this.engine = engine;
    }

    /** Starts on 127.0.0.1 and an ephemeral port. Timeouts and retry waits are measured on {@code clock}. */
    public static StepFunctionsEmulator start(Clock clock, LambdaDispatcher lambdas) {
        ExecutionEngine engine = new ExecutionEngine(clock, lambdas);
        AtomicInteger n = new AtomicInteger();
        ExecutorService httpThreads = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "sfn-emulator-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.setExecutor(httpThreads);
            StepFunctionsEmulator emulator = new StepFunctionsEmulator(server, httpThreads, engine);
            server.createContext("/", emulator::handle);
            server.start();
            return emulator;
        } catch (IOException e) {
            engine.close();
            httpThreads.shutdownNow();
            throw new UncheckedIOException("cannot bind the Step Functions emulator on 127.0.0.1", e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /**
     * A real SfnClient for this emulator (URLConnection HTTP client, us-east-1, dummy static credentials).
     * Closing it is optional: the emulator closes the clients it made when it closes.
     */
    public SfnClient newClient() {
        SfnClient client = SfnClient.builder()
                .endpointOverride(endpoint())
                .region(Region.of(ExecutionEngine.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .build();
        clients.add(client);
        return client;
    }

    /**
     * Waits in real time (not on the injected clock) until the execution leaves RUNNING and returns its
     * status (SUCCEEDED, FAILED, TIMED_OUT, ABORTED). Fails with the last history events if it does not.
     */
    public String awaitTerminal(String executionArn, Duration timeout) throws InterruptedException {
        return engine.awaitTerminal(executionArn, timeout);
    }

    /**
     * Waits in real time until the execution's history has an event of this type (for example
     * TaskScheduled, before a test advances the clock past a task timeout).
     */
    public void awaitEvent(String executionArn, String eventType, Duration timeout) throws InterruptedException {
        engine.awaitEvents(executionArn, eventType, 1, timeout);
    }

    /**
     * Waits in real time until the history has {@code count} events of this type (for example the n-th
     * TaskFailed, before a test advances the clock past a retry interval: a retry wait starts when the
     * failure is recorded, which can be after the Lambda call itself is seen).
     */
    public void awaitEvents(String executionArn, String eventType, int count, Duration timeout)
            throws InterruptedException {
        engine.awaitEvents(executionArn, eventType, count, timeout);
    }

    private void handle(HttpExchange exchange) throws IOException {
        int status = 200;
        ObjectNode body;
        try {
            body = dispatch(exchange);
        } catch (SfnApiException e) {
            status = 400;
            body = error(e.type(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "Step Functions emulator bug", e);
            status = 500;
            body = error("InternalFailure", "emulator bug: " + e);
        }
        byte[] bytes = ExecutionEngine.MAPPER.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private ObjectNode dispatch(HttpExchange exchange) throws IOException {
        String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
        if (!"POST".equals(exchange.getRequestMethod()) || !"/".equals(exchange.getRequestURI().getPath())
                || target == null || !target.startsWith(TARGET_PREFIX)) {
            throw new SfnApiException("UnknownOperationException",
                    "expected POST / with X-Amz-Target: AWSStepFunctions.<Operation>");
        }
        String operation = target.substring(TARGET_PREFIX.length());
        Set<String> allowed = FIELDS.get(operation);
        if (allowed == null) {
            throw new SfnApiException("UnknownOperationException", "operation " + operation
                    + " is not supported by the Policygate Step Functions emulator");
        }
        JsonNode request = readBody(exchange);
        request.fieldNames().forEachRemaining(f -> {
            if (!allowed.contains(f)) {
                throw new SfnApiException("ValidationException", "request field '" + f + "' of " + operation
                        + " is not supported by the Policygate Step Functions emulator");
            }
        });
        ObjectNode empty = ExecutionEngine.MAPPER.createObjectNode();
        switch (operation) {
            case "CreateStateMachine":
                return engine.createStateMachine(required(request, "name"), required(request, "definition"),
                        required(request, "roleArn"), text(request, "type"));
            case "StartExecution":
                return engine.startExecution(required(request, "stateMachineArn"), text(request, "name"),
                        text(request, "input"));
            case "DescribeExecution":
                return engine.describeExecution(required(request, "executionArn"));
            case "StopExecution":
                return engine.stopExecution(required(request, "executionArn"), text(request, "error"),
                        text(request, "cause"));
            case "GetExecutionHistory":
                return engine.getExecutionHistory(required(request, "executionArn"),
                        request.has("maxResults") ? request.get("maxResults").asInt() : null,
                        request.has("reverseOrder") ? request.get("reverseOrder").asBoolean() : null,
                        text(request, "nextToken"),
                        request.has("includeExecutionData") ? request.get("includeExecutionData").asBoolean() : null);
            case "SendTaskSuccess":
                engine.sendTaskSuccess(required(request, "taskToken"), required(request, "output"));
                return empty;
            case "SendTaskFailure":
                engine.sendTaskFailure(required(request, "taskToken"), text(request, "error"), text(request, "cause"));
                return empty;
            case "SendTaskHeartbeat":
                engine.sendTaskHeartbeat(required(request, "taskToken"));
                return empty;
            default:
                throw new IllegalStateException("no handler for " + operation);
        }
    }

    private static JsonNode readBody(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readAllBytes();
        }
        if (bytes.length == 0) {
            return ExecutionEngine.MAPPER.createObjectNode();
        }
        try {
            JsonNode node = ExecutionEngine.MAPPER.readTree(new String(bytes, StandardCharsets.UTF_8));
            if (node == null || !node.isObject()) {
                throw new SfnApiException("SerializationException", "the request body is not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new SfnApiException("SerializationException", "the request body is not JSON: "
                    + e.getOriginalMessage());
        }
    }

    private static String required(JsonNode request, String field) {
        String value = text(request, field);
        if (value == null) {
            throw new SfnApiException("ValidationException", "1 validation error detected: Value null at '" + field
                    + "' failed to satisfy constraint: Member must not be null");
        }
        return value;
    }

    private static String text(JsonNode request, String field) {
        JsonNode v = request.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static ObjectNode error(String type, String message) {
        ObjectNode body = ExecutionEngine.MAPPER.createObjectNode();
        body.put("__type", type);
        body.put("message", message);
        return body;
    }

    /** Stops the HTTP server, the ticker and the Lambda worker threads, and closes the clients it made. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        clients.forEach(SfnClient::close);
        server.stop(0);
        httpThreads.shutdownNow();
        engine.close();
        try {
            httpThreads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
