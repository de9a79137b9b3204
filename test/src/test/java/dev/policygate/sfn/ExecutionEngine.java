package dev.policygate.sfn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.sfn.AslDefinition.Catcher;
import dev.policygate.sfn.AslDefinition.ChoiceBranch;
import dev.policygate.sfn.AslDefinition.ChoiceState;
import dev.policygate.sfn.AslDefinition.FailState;
import dev.policygate.sfn.AslDefinition.PassState;
import dev.policygate.sfn.AslDefinition.Retrier;
import dev.policygate.sfn.AslDefinition.State;
import dev.policygate.sfn.AslDefinition.SucceedState;
import dev.policygate.sfn.AslDefinition.TaskState;

import java.math.BigDecimal;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The state machines, executions and task tokens of one emulator, and the interpreter that moves
 * executions on. Every mutation happens under this object's monitor; Lambda functions run on worker
 * threads outside it, so a function may call SendTaskSuccess before it returns. A ticker compares
 * deadlines (task timeouts, heartbeats, retry waits, execution timeouts) with the injected clock.
 */
final class ExecutionEngine implements AutoCloseable {
    static final String REGION = "us-east-1";
    static final String ACCOUNT = "123456789012";
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private static final Logger LOG = Logger.getLogger(ExecutionEngine.class.getName());
    private static final long TICK_MILLIS = 20;
    /** 32 random bytes, base64url without padding. */
    private static final Pattern TOKEN_SHAPE = Pattern.compile("[A-Za-z0-9_-]{43}");
    private static final Pattern NAME_SHAPE = Pattern.compile("[A-Za-z0-9_-]{1,80}");

    private final Clock clock;
    private final LambdaDispatcher lambdas;
    private final SecureRandom random = new SecureRandom();
    private final ExecutorService workers;
    private final ScheduledExecutorService ticker;
    private final Map<String, StateMachine> machines = new HashMap<>();
    private final Map<String, Execution> executions = new HashMap<>();
    private final Map<String, TaskAttempt> tasksByToken = new HashMap<>();
    private boolean closed;

    private record StateMachine(String arn, String name, String definition, String roleArn, AslDefinition asl,
            Instant created) {
    }

    private static final class Execution {
        final String arn;
        final String name;
        final StateMachine machine;
        final String input;
        final Instant started;
        final Instant deadline;
        final List<ObjectNode> history = new ArrayList<>();
        String status = "RUNNING";
        Instant stopped;
        String output;
        String error;
        String cause;
        String stateName;
        Instant stateEntered;
        int[] retryCounts = new int[0];
        TaskAttempt currentTask;
        Instant retryAt;
        TaskState retryTask;
        JsonNode retryInput;

        Execution(String arn, String name, StateMachine machine, String input, Instant started, Instant deadline) {
            this.arn = arn;
            this.name = name;
            this.machine = machine;
            this.input = input;
            this.started = started;
            this.deadline = deadline;
        }

        boolean running() {
            return status.equals("RUNNING");
        }
    }

    private static final class TaskAttempt {
        final Execution execution;
        final TaskState task;
        final JsonNode rawInput;
        final String token;
        final Instant timeoutAt;
        Instant heartbeatAt;
        boolean done;

        TaskAttempt(Execution execution, TaskState task, JsonNode rawInput, String token, Instant timeoutAt,
                Instant heartbeatAt) {
            this.execution = execution;
            this.task = task;
            this.rawInput = rawInput;
            this.token = token;
            this.timeoutAt = timeoutAt;
            this.heartbeatAt = heartbeatAt;
        }
    }

    ExecutionEngine(Clock clock, LambdaDispatcher lambdas) {
        this.clock = clock;
        this.lambdas = lambdas;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> daemon(r, "sfn-emulator-lambda-" + n.incrementAndGet()));
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "sfn-emulator-ticker"));
        ticker.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- API operations

    synchronized ObjectNode createStateMachine(String name, String definition, String roleArn, String type) {
        requireName(name);
        if (type != null && !type.equals("STANDARD")) {
            throw new SfnApiException("ValidationException", "state machine type '" + type
                    + "' is not supported by the emulator (STANDARD only)");
        }
        AslDefinition asl = AslDefinition.parse(definition, MAPPER);
        String arn = "arn:aws:states:" + REGION + ":" + ACCOUNT + ":stateMachine:" + name;
        StateMachine existing = machines.get(arn);
        if (existing != null && !(existing.definition.equals(definition) && existing.roleArn.equals(roleArn))) {
            throw new SfnApiException("StateMachineAlreadyExists", "State Machine Already Exists: '" + arn + "'");
        }
        StateMachine machine = existing != null ? existing
                : new StateMachine(arn, name, definition, roleArn, asl, clock.instant());
        machines.put(arn, machine);
        ObjectNode out = MAPPER.createObjectNode();
        out.put("stateMachineArn", arn);
        out.set("creationDate", epoch(machine.created));
        return out;
    }

    synchronized ObjectNode startExecution(String stateMachineArn, String name, String input) {
        requireArn(stateMachineArn, "stateMachine");
        StateMachine machine = machines.get(stateMachineArn);
        if (machine == null) {
            throw new SfnApiException("StateMachineDoesNotExist", "State Machine Does Not Exist: '" + stateMachineArn + "'");
        }
        String executionName = name == null ? UUID.randomUUID().toString() : name;
        requireName(executionName);
        String inputText = input == null ? "{}" : input;
        JsonNode inputJson;
        try {
            inputJson = MAPPER.readTree(inputText);
        } catch (JsonProcessingException e) {
            throw new SfnApiException("InvalidExecutionInput", "Invalid execution input: " + e.getOriginalMessage());
        }
        if (inputJson == null) {
            throw new SfnApiException("InvalidExecutionInput", "Invalid execution input: empty");
        }
        String arn = "arn:aws:states:" + REGION + ":" + ACCOUNT + ":execution:" + machine.name + ":" + executionName;
        Execution existing = executions.get(arn);
        if (existing != null) {
            // STANDARD StartExecution is idempotent for a running execution with the same input
            if (existing.running() && existing.input.equals(inputText)) {
                return startResponse(existing);
            }
            throw new SfnApiException("ExecutionAlreadyExists", "Execution Already Exists: '" + arn + "'");
        }
        Instant now = clock.instant();
        Integer timeout = machine.asl.timeoutSeconds;
        Execution e = new Execution(arn, executionName, machine, inputText, now,
                timeout == null ? null : now.plusSeconds(timeout));
        executions.put(arn, e);
        ObjectNode details = MAPPER.createObjectNode();
        details.put("input", inputText);
        details.putObject("inputDetails").put("truncated", false);
        details.put("roleArn", machine.roleArn);
        event(e, "ExecutionStarted", "executionStartedEventDetails", details);
        guarded(e, () -> enter(e, machine.asl.startAt, inputJson));
        return startResponse(e);
    }

    synchronized ObjectNode describeExecution(String executionArn) {
        Execution e = execution(executionArn);
        ObjectNode out = MAPPER.createObjectNode();
        out.put("executionArn", e.arn);
        out.put("stateMachineArn", e.machine.arn);
        out.put("name", e.name);
        out.put("status", e.status);
        out.set("startDate", epoch(e.started));
        if (e.stopped != null) {
            out.set("stopDate", epoch(e.stopped));
        }
        out.put("input", e.input);
        out.putObject("inputDetails").put("included", true);
        if (e.output != null) {
            out.put("output", e.output);
            out.putObject("outputDetails").put("included", true);
        }
        if (e.error != null) {
            out.put("error", e.error);
        }
        if (e.cause != null) {
            out.put("cause", e.cause);
        }
        return out;
    }

    synchronized ObjectNode stopExecution(String executionArn, String error, String cause) {
        Execution e = execution(executionArn);
        if (e.running()) {
            finish(e, "ABORTED", "ExecutionAborted", "executionAbortedEventDetails", errorDetails(error, cause),
                    null, error, cause);
        }
        ObjectNode out = MAPPER.createObjectNode();
        out.set("stopDate", epoch(e.stopped));
        return out;
    }

    synchronized ObjectNode getExecutionHistory(String executionArn, Integer maxResults, Boolean reverseOrder,
            String nextToken, Boolean includeExecutionData) {
        Execution e = execution(executionArn);
        int max = maxResults == null || maxResults == 0 ? 100 : maxResults;
        if (max < 0 || max > 1000) {
            throw new SfnApiException("ValidationException", "maxResults must be between 0 and 1000");
        }
        List<ObjectNode> events = new ArrayList<>(e.history);
        if (Boolean.TRUE.equals(reverseOrder)) {
            java.util.Collections.reverse(events);
        }
        int from = 0;
        if (nextToken != null) {
            try {
                from = Integer.parseInt(nextToken);
            } catch (NumberFormatException ex) {
                throw new SfnApiException("InvalidToken", "Invalid pagination token");
            }
            if (from < 0 || from > events.size()) {
                throw new SfnApiException("InvalidToken", "Invalid pagination token");
            }
        }
        int to = Math.min(events.size(), from + max);
        ObjectNode out = MAPPER.createObjectNode();
        ArrayNode page = out.putArray("events");
        for (ObjectNode event : events.subList(from, to)) {
            page.add(Boolean.FALSE.equals(includeExecutionData) ? withoutData(event) : event.deepCopy());
        }
        if (to < events.size()) {
            out.put("nextToken", Integer.toString(to));
        }
        return out;
    }

    synchronized void sendTaskSuccess(String token, String output) {
        TaskAttempt a = liveTask(token);
        JsonNode result;
        try {
            result = MAPPER.readTree(output);
        } catch (JsonProcessingException ex) {
            throw new SfnApiException("InvalidOutput", "Invalid output: " + ex.getOriginalMessage());
        }
        if (result == null) {
            throw new SfnApiException("InvalidOutput", "Invalid output: empty");
        }
        guarded(a.execution, () -> completeTask(a, result));
    }

    synchronized void sendTaskFailure(String token, String error, String cause) {
        TaskAttempt a = liveTask(token);
        guarded(a.execution, () -> failTask(a, "TaskFailed", "taskFailedEventDetails", error, cause));
    }

    synchronized void sendTaskHeartbeat(String token) {
        TaskAttempt a = liveTask(token);
        if (a.task.heartbeatSeconds() != null) {
            a.heartbeatAt = clock.instant().plusSeconds(a.task.heartbeatSeconds());
        }
    }

    // ---------------------------------------------------------------- test helpers

    synchronized String awaitTerminal(String executionArn, Duration timeout) throws InterruptedException {
        Execution e = execution(executionArn);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (e.running()) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new IllegalStateException("execution " + executionArn + " still RUNNING after " + timeout
                        + "; last events: " + lastEvents(e));
            }
            wait(left);
        }
        return e.status;
    }

    synchronized void awaitEvents(String executionArn, String type, int count, Duration timeout)
            throws InterruptedException {
        Execution e = execution(executionArn);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (e.history.stream().filter(ev -> ev.get("type").asText().equals(type)).count() < count) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new IllegalStateException("fewer than " + count + " " + type + " events in " + executionArn
                        + " after " + timeout + "; last events: " + lastEvents(e));
            }
            wait(left);
        }
    }

    // ---------------------------------------------------------------- interpreter

    /** Runs states from {@code name} until a Task waits or the execution ends. */
    private void enter(Execution e, String name, JsonNode input) {
        String current = name;
        JsonNode currentInput = input;
        while (true) {
            State state = e.machine.asl.states.get(current);
            e.stateName = current;
            e.stateEntered = clock.instant();
            e.retryCounts = new int[state instanceof TaskState t ? t.retriers().size() : 0];
            if (state instanceof TaskState t) {
                event(e, "TaskStateEntered", "stateEnteredEventDetails", stateDetails(current, "input", currentInput));
                scheduleTask(e, t, currentInput);
                return;
            }
            if (state instanceof PassState p) {
                event(e, "PassStateEntered", "stateEnteredEventDetails", stateDetails(current, "input", currentInput));
                JsonNode effective = inputPath(p.inputPath(), currentInput);
                JsonNode result = p.parameters() != null ? evaluate(p.parameters(), effective, context(e, null))
                        : p.result() != null ? p.result().deepCopy() : effective;
                JsonNode out = outputPath(p.outputPath(), resultPath(p.resultPath(), currentInput, result));
                event(e, "PassStateExited", "stateExitedEventDetails", stateDetails(current, "output", out));
                if (p.next() == null) {
                    succeed(e, out);
                    return;
                }
                current = p.next();
                currentInput = out;
            } else if (state instanceof ChoiceState c) {
                event(e, "ChoiceStateEntered", "stateEnteredEventDetails", stateDetails(current, "input", currentInput));
                JsonNode effective = inputPath(c.inputPath(), currentInput);
                String next = c.branches().stream().filter(b -> b.condition().test(effective))
                        .map(ChoiceBranch::next).findFirst().orElse(c.defaultNext());
                if (next == null) {
                    throw new StatesError("States.NoChoiceMatched", "No Choice Rule matched and there was no Default"
                            + " in state '" + current + "'");
                }
                JsonNode out = outputPath(c.outputPath(), effective);
                event(e, "ChoiceStateExited", "stateExitedEventDetails", stateDetails(current, "output", out));
                current = next;
                currentInput = out;
            } else if (state instanceof SucceedState s) {
                event(e, "SucceedStateEntered", "stateEnteredEventDetails", stateDetails(current, "input", currentInput));
                JsonNode out = outputPath(s.outputPath(), inputPath(s.inputPath(), currentInput));
                event(e, "SucceedStateExited", "stateExitedEventDetails", stateDetails(current, "output", out));
                succeed(e, out);
                return;
            } else {
                FailState f = (FailState) state;
                event(e, "FailStateEntered", "stateEnteredEventDetails", stateDetails(current, "input", currentInput));
                failExecution(e, f.error(), f.cause());
                return;
            }
        }
    }

    private void scheduleTask(Execution e, TaskState t, JsonNode rawInput) {
        String token = t.waitForToken() ? newToken() : null;
        JsonNode effective = inputPath(t.inputPath(), rawInput);
        JsonNode params = evaluate(t.parameters(), effective, context(e, token));
        Integer timeout = t.timeoutSeconds();
        if (t.timeoutSecondsPath() != null) {
            JsonNode v = t.timeoutSecondsPath().read(effective).orElseThrow(() -> new StatesError("States.Runtime",
                    "TimeoutSecondsPath '" + t.timeoutSecondsPath() + "' not found in the input of '" + t.name() + "'"));
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
                throw new StatesError("States.Runtime", "TimeoutSecondsPath '" + t.timeoutSecondsPath()
                        + "' must resolve to a positive integer, got " + v);
            }
            timeout = v.intValue();
        }
        JsonNode functionName = params.get("FunctionName");
        if (functionName == null || !functionName.isTextual()) {
            throw new StatesError("States.Runtime", "FunctionName of '" + t.name() + "' is not a string: " + functionName);
        }
        Instant now = clock.instant();
        TaskAttempt a = new TaskAttempt(e, t, rawInput, token, timeout == null ? null : now.plusSeconds(timeout),
                t.heartbeatSeconds() == null ? null : now.plusSeconds(t.heartbeatSeconds()));
        if (token != null) {
            tasksByToken.put(token, a);
        }
        e.currentTask = a;
        ObjectNode scheduled = taskDetails(t);
        scheduled.put("region", REGION);
        scheduled.put("parameters", params.toString());
        if (timeout != null) {
            scheduled.put("timeoutInSeconds", timeout.longValue());
        }
        if (t.heartbeatSeconds() != null) {
            scheduled.put("heartbeatInSeconds", t.heartbeatSeconds().longValue());
        }
        event(e, "TaskScheduled", "taskScheduledEventDetails", scheduled);
        event(e, "TaskStarted", "taskStartedEventDetails", taskDetails(t));
        JsonNode payload = params.has("Payload") ? params.get("Payload") : NullNode.getInstance();
        workers.execute(() -> invokeLambda(a, functionName.textValue(), payload));
    }

    private void invokeLambda(TaskAttempt a, String functionName, JsonNode payload) {
        JsonNode response = null;
        StatesError failure = null;
        try {
            response = lambdas.invoke(functionName, payload.deepCopy());
        } catch (LambdaInvocationException ex) {
            failure = new StatesError(ex.error(), ex.errorCause());
        } catch (RuntimeException | Error ex) {
            ObjectNode cause = MAPPER.createObjectNode();
            cause.put("errorMessage", String.valueOf(ex.getMessage()));
            cause.put("errorType", ex.getClass().getName());
            failure = new StatesError(ex.getClass().getName(), cause.toString());
        }
        JsonNode result = response == null ? NullNode.getInstance() : response;
        StatesError error = failure;
        synchronized (this) {
            if (closed || a.done) {
                return; // the callback, a timeout or StopExecution came first
            }
            guarded(a.execution, () -> {
                if (error != null) {
                    failTask(a, "TaskFailed", "taskFailedEventDetails", error.error(), error.cause());
                    return;
                }
                ObjectNode invokeResult = MAPPER.createObjectNode();
                invokeResult.put("ExecutedVersion", "$LATEST");
                invokeResult.set("Payload", result);
                invokeResult.put("StatusCode", 200);
                if (a.task.waitForToken()) {
                    ObjectNode submitted = taskDetails(a.task);
                    submitted.put("output", invokeResult.toString());
                    event(a.execution, "TaskSubmitted", "taskSubmittedEventDetails", submitted);
                } else {
                    completeTask(a, invokeResult);
                }
            });
        }
    }

    private void completeTask(TaskAttempt a, JsonNode result) {
        Execution e = a.execution;
        TaskState t = a.task;
        a.done = true;
        e.currentTask = null;
        ObjectNode succeeded = taskDetails(t);
        succeeded.put("output", result.toString());
        event(e, "TaskSucceeded", "taskSucceededEventDetails", succeeded);
        JsonNode selected = t.resultSelector() == null ? result : evaluate(t.resultSelector(), result, context(e, null));
        JsonNode placed;
        try {
            placed = resultPath(t.resultPath(), a.rawInput, selected);
        } catch (StatesError ex) {
            handleError(e, t, a.rawInput, ex.error(), ex.cause());
            return;
        }
        JsonNode out = outputPath(t.outputPath(), placed);
        event(e, "TaskStateExited", "stateExitedEventDetails", stateDetails(t.name(), "output", out));
        if (t.next() == null) {
            succeed(e, out);
        } else {
            enter(e, t.next(), out);
        }
    }

    private void failTask(TaskAttempt a, String type, String detailsField, String error, String cause) {
        a.done = true;
        a.execution.currentTask = null;
        ObjectNode details = taskDetails(a.task);
        details.setAll(errorDetails(error, cause));
        event(a.execution, type, detailsField, details);
        handleError(a.execution, a.task, a.rawInput, error, cause);
    }

    /** Retry first (the first retrier that matches decides), then Catch, else the execution fails. */
    private void handleError(Execution e, TaskState t, JsonNode rawInput, String error, String cause) {
        for (int i = 0; i < t.retriers().size(); i++) {
            Retrier r = t.retriers().get(i);
            if (!matches(r.errorEquals(), error)) {
                continue;
            }
            if (e.retryCounts[i] < r.maxAttempts()) {
                double delay = r.intervalSeconds() * Math.pow(r.backoffRate(), e.retryCounts[i]);
                if (r.maxDelaySeconds() != null) {
                    delay = Math.min(delay, r.maxDelaySeconds());
                }
                if (r.fullJitter()) {
                    delay = ThreadLocalRandom.current().nextDouble() * delay;
                }
                e.retryCounts[i]++;
                e.retryAt = clock.instant().plusMillis(Math.round(delay * 1000));
                e.retryTask = t;
                e.retryInput = rawInput;
                return;
            }
            break;
        }
        for (Catcher c : t.catchers()) {
            if (matches(c.errorEquals(), error)) {
                ObjectNode errorOutput = MAPPER.createObjectNode();
                errorOutput.put("Error", error);
                if (cause != null) {
                    errorOutput.put("Cause", cause);
                }
                JsonNode out = resultPath(c.resultPath(), rawInput, errorOutput);
                event(e, "TaskStateExited", "stateExitedEventDetails", stateDetails(t.name(), "output", out));
                enter(e, c.next(), out);
                return;
            }
        }
        failExecution(e, error, cause);
    }

    /** ErrorEquals matching as AWS documents it; States.Runtime is never retried or caught. */
    static boolean matches(List<String> errorEquals, String error) {
        if ("States.Runtime".equals(error)) {
            return false;
        }
        boolean timeout = "States.Timeout".equals(error) || "States.HeartbeatTimeout".equals(error);
        for (String name : errorEquals) {
            if (name.equals("States.ALL") || name.equals(error)
                    || (name.equals("States.TaskFailed") && !timeout)
                    || (name.equals("States.Timeout") && "States.HeartbeatTimeout".equals(error))) {
                return true;
            }
        }
        return false;
    }

    private void tick() {
        synchronized (this) {
            if (closed) {
                return;
            }
            Instant now = clock.instant();
            for (Execution e : new ArrayList<>(executions.values())) {
                if (!e.running()) {
                    continue;
                }
                guarded(e, () -> {
                    TaskAttempt a = e.currentTask;
                    if (e.deadline != null && !now.isBefore(e.deadline)) {
                        finish(e, "TIMED_OUT", "ExecutionTimedOut", "executionTimedOutEventDetails",
                                errorDetails("States.Timeout", "The execution ran longer than its TimeoutSeconds"),
                                null, "States.Timeout", "The execution ran longer than its TimeoutSeconds");
                    } else if (a != null && a.timeoutAt != null && !now.isBefore(a.timeoutAt)) {
                        failTask(a, "TaskTimedOut", "taskTimedOutEventDetails", "States.Timeout", null);
                    } else if (a != null && a.heartbeatAt != null && !now.isBefore(a.heartbeatAt)) {
                        failTask(a, "TaskTimedOut", "taskTimedOutEventDetails", "States.HeartbeatTimeout", null);
                    } else if (e.retryAt != null && !now.isBefore(e.retryAt)) {
                        e.retryAt = null;
                        scheduleTask(e, e.retryTask, e.retryInput);
                    }
                });
            }
        }
    }

    /** Runs a step; an execution error ends the execution, an emulator bug fails it loudly. */
    private void guarded(Execution e, Runnable step) {
        try {
            step.run();
        } catch (StatesError ex) {
            if (e.running()) {
                failExecution(e, ex.error(), ex.cause());
            }
        } catch (RuntimeException ex) {
            LOG.log(Level.SEVERE, "emulator bug while running " + e.arn, ex);
            if (e.running()) {
                failExecution(e, "Emulator.InternalError", ex.toString());
            }
        }
    }

    private void succeed(Execution e, JsonNode output) {
        ObjectNode details = MAPPER.createObjectNode();
        details.put("output", output.toString());
        details.putObject("outputDetails").put("truncated", false);
        finish(e, "SUCCEEDED", "ExecutionSucceeded", "executionSucceededEventDetails", details, output.toString(),
                null, null);
    }

    private void failExecution(Execution e, String error, String cause) {
        finish(e, "FAILED", "ExecutionFailed", "executionFailedEventDetails", errorDetails(error, cause), null, error,
                cause);
    }

    private void finish(Execution e, String status, String type, String detailsField, ObjectNode details,
            String output, String error, String cause) {
        if (e.currentTask != null) {
            e.currentTask.done = true;
            e.currentTask = null;
        }
        e.retryAt = null;
        e.status = status;
        e.stopped = clock.instant();
        e.output = output;
        e.error = error;
        e.cause = cause;
        event(e, type, detailsField, details);
    }

    // ---------------------------------------------------------------- paths and templates

    private static JsonNode inputPath(Optional<JsonPath> path, JsonNode input) {
        return select(path, input, "InputPath");
    }

    private static JsonNode outputPath(Optional<JsonPath> path, JsonNode output) {
        return select(path, output, "OutputPath");
    }

    private static JsonNode select(Optional<JsonPath> path, JsonNode node, String field) {
        if (path.isEmpty()) {
            return MAPPER.createObjectNode();
        }
        return path.get().read(node).orElseThrow(() -> new StatesError("States.Runtime",
                "Invalid " + field + " '" + path.get() + "': no value at this path in " + node));
    }

    private static JsonNode resultPath(Optional<JsonPath> path, JsonNode input, JsonNode result) {
        if (path.isEmpty()) {
            return input;
        }
        try {
            return path.get().write(input, result);
        } catch (IllegalStateException ex) {
            throw new StatesError("States.ResultPathMatchFailure", ex.getMessage());
        }
    }

    /** Evaluates a Parameters or ResultSelector template: "key.$" fields take the value at their path. */
    private static JsonNode evaluate(JsonNode template, JsonNode input, JsonNode context) {
        if (template.isObject()) {
            ObjectNode out = MAPPER.createObjectNode();
            template.fields().forEachRemaining(f -> {
                String key = f.getKey();
                if (key.endsWith(".$")) {
                    JsonPath p = JsonPath.parse(f.getValue().textValue());
                    JsonNode value = p.read(p.isContext() ? context : input).orElseThrow(() -> new StatesError(
                            "States.Runtime", "The JSONPath '" + p + "' specified for the field '" + key
                            + "' could not be found in the input '" + input + "'"));
                    out.set(key.substring(0, key.length() - 2), value.deepCopy());
                } else {
                    out.set(key, evaluate(f.getValue(), input, context));
                }
            });
            return out;
        }
        if (template.isArray()) {
            ArrayNode out = MAPPER.createArrayNode();
            template.forEach(n -> out.add(evaluate(n, input, context)));
            return out;
        }
        return template.deepCopy();
    }

    private JsonNode context(Execution e, String token) {
        ObjectNode ctx = MAPPER.createObjectNode();
        ObjectNode exec = ctx.putObject("Execution");
        exec.put("Id", e.arn);
        exec.put("Name", e.name);
        exec.put("StartTime", e.started.toString());
        exec.put("RoleArn", e.machine.roleArn);
        try {
            exec.set("Input", MAPPER.readTree(e.input));
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("stored input is not JSON", ex);
        }
        ObjectNode state = ctx.putObject("State");
        state.put("Name", e.stateName);
        state.put("EnteredTime", e.stateEntered.toString());
        state.put("RetryCount", java.util.Arrays.stream(e.retryCounts).sum());
        ObjectNode machine = ctx.putObject("StateMachine");
        machine.put("Id", e.machine.arn);
        machine.put("Name", e.machine.name);
        if (token != null) {
            ctx.putObject("Task").put("Token", token);
        }
        return ctx;
    }

    // ---------------------------------------------------------------- history and helpers

    private void event(Execution e, String type, String detailsField, ObjectNode details) {
        ObjectNode event = MAPPER.createObjectNode();
        long id = e.history.size() + 1;
        event.set("timestamp", epoch(clock.instant()));
        event.put("type", type);
        event.put("id", id);
        event.put("previousEventId", id - 1);
        event.set(detailsField, details);
        e.history.add(event);
        notifyAll();
    }

    private static ObjectNode stateDetails(String name, String field, JsonNode value) {
        ObjectNode d = MAPPER.createObjectNode();
        d.put("name", name);
        d.put(field, value.toString());
        d.putObject(field + "Details").put("truncated", false);
        return d;
    }

    private static ObjectNode taskDetails(TaskState t) {
        ObjectNode d = MAPPER.createObjectNode();
        d.put("resourceType", "lambda");
        d.put("resource", t.resource());
        return d;
    }

    private static ObjectNode errorDetails(String error, String cause) {
        ObjectNode d = MAPPER.createObjectNode();
        if (error != null) {
            d.put("error", error);
        }
        if (cause != null) {
            d.put("cause", cause);
        }
        return d;
    }

    private static ObjectNode withoutData(ObjectNode event) {
        ObjectNode copy = event.deepCopy();
        copy.fields().forEachRemaining(f -> {
            if (f.getValue().isObject()) {
                ((ObjectNode) f.getValue()).remove(List.of("input", "output", "parameters"));
            }
        });
        return copy;
    }

    private static String lastEvents(Execution e) {
        return e.history.subList(Math.max(0, e.history.size() - 5), e.history.size()).toString();
    }

    private ObjectNode startResponse(Execution e) {
        ObjectNode out = MAPPER.createObjectNode();
        out.put("executionArn", e.arn);
        out.set("startDate", epoch(e.started));
        return out;
    }

    private Execution execution(String executionArn) {
        requireArn(executionArn, "execution");
        Execution e = executions.get(executionArn);
        if (e == null) {
            throw new SfnApiException("ExecutionDoesNotExist", "Execution Does Not Exist: '" + executionArn + "'");
        }
        return e;
    }

    /**
     * A token of the wrong shape is InvalidToken; a well-shaped token never issued is TaskDoesNotExist;
     * a token whose task already ended (completed, failed, timed out, execution stopped) is TaskTimedOut,
     * as Step Functions answers "Provided task does not exist anymore".
     */
    private TaskAttempt liveTask(String token) {
        if (token == null || !TOKEN_SHAPE.matcher(token).matches()) {
            throw new SfnApiException("InvalidToken", "Invalid Token: the task token is malformed");
        }
        TaskAttempt a = tasksByToken.get(token);
        if (a == null) {
            throw new SfnApiException("TaskDoesNotExist", "Task Does Not Exist: no task was issued this token");
        }
        if (a.done || !a.execution.running()) {
            throw new SfnApiException("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
        }
        return a;
    }

    private String newToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void requireName(String name) {
        if (name == null || !NAME_SHAPE.matcher(name).matches()) {
            throw new SfnApiException("InvalidName", "Invalid Name: '" + name + "' (1-80 of A-Z a-z 0-9 _ -)");
        }
    }

    private static void requireArn(String arn, String resourceType) {
        String prefix = "arn:aws:states:" + REGION + ":" + ACCOUNT + ":" + resourceType + ":";
        if (arn == null || !arn.startsWith(prefix)) {
            throw new SfnApiException("InvalidArn", "Invalid Arn: '" + arn + "' (expected " + prefix + "...)");
        }
    }

    static DecimalNode epoch(Instant t) {
        return new DecimalNode(BigDecimal.valueOf(t.toEpochMilli(), 3));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        ticker.shutdownNow();
        workers.shutdownNow();
        try {
            ticker.awaitTermination(5, TimeUnit.SECONDS);
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
