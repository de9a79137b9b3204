package dev.policygate.sfn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A parsed, validated state machine definition in the emulator's ASL subset (see
 * {@link StepFunctionsEmulator}). Parsing refuses, with an {@code InvalidDefinition} error naming the
 * feature, anything outside the subset, so an execution never meets a construct it cannot run.
 */
final class AslDefinition {
    static final String LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
    static final String LAMBDA_INVOKE_WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken";

    private static final Set<String> TOP_LEVEL = Set.of("Comment", "StartAt", "States", "TimeoutSeconds", "Version",
            "QueryLanguage");
    private static final Set<String> TASK_FIELDS = Set.of("Type", "Comment", "Resource", "Parameters", "InputPath",
            "OutputPath", "ResultPath", "ResultSelector", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
            "Retry", "Catch", "Next", "End");
    private static final Set<String> PASS_FIELDS = Set.of("Type", "Comment", "InputPath", "OutputPath", "ResultPath",
            "Parameters", "Result", "Next", "End");
    private static final Set<String> CHOICE_FIELDS = Set.of("Type", "Comment", "InputPath", "OutputPath", "Choices",
            "Default");
    private static final Set<String> SUCCEED_FIELDS = Set.of("Type", "Comment", "InputPath", "OutputPath");
    private static final Set<String> FAIL_FIELDS = Set.of("Type", "Comment", "Error", "Cause");
    private static final Set<String> RETRY_FIELDS = Set.of("ErrorEquals", "IntervalSeconds", "MaxAttempts",
            "BackoffRate", "MaxDelaySeconds", "JitterStrategy");
    private static final Set<String> CATCH_FIELDS = Set.of("ErrorEquals", "ResultPath", "Next");
    private static final Set<String> LAMBDA_PARAMETERS = Set.of("FunctionName", "FunctionName.$", "Payload",
            "Payload.$");
    private static final Set<String> TYPE_TESTS = Set.of("IsPresent", "IsNull", "IsString", "IsNumeric", "IsBoolean");
    private static final Set<String> COMPARISONS = Set.of("StringEquals", "NumericEquals", "NumericLessThan",
            "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "BooleanEquals");

    final String startAt;
    final Map<String, State> states;
    /** The execution-level TimeoutSeconds, or null. */
    final Integer timeoutSeconds;

    private AslDefinition(String startAt, Map<String, State> states, Integer timeoutSeconds) {
        this.startAt = startAt;
        this.states = states;
        this.timeoutSeconds = timeoutSeconds;
    }

    sealed interface State permits TaskState, PassState, ChoiceState, SucceedState, FailState {
        String name();
    }

    /** An absent path is {@code $}; an empty Optional is the ASL {@code null} (discard). */
    record TaskState(String name, boolean waitForToken, JsonNode parameters, Optional<JsonPath> inputPath,
            Optional<JsonPath> outputPath, Optional<JsonPath> resultPath, JsonNode resultSelector, Integer timeoutSeconds,
            JsonPath timeoutSecondsPath, Integer heartbeatSeconds, List<Retrier> retriers, List<Catcher> catchers,
            String next) implements State {
        String resource() {
            return waitForToken ? "invoke.waitForTaskToken" : "invoke";
        }
    }

    record PassState(String name, Optional<JsonPath> inputPath, Optional<JsonPath> outputPath,
            Optional<JsonPath> resultPath, JsonNode parameters, JsonNode result, String next) implements State {
    }

    record ChoiceState(String name, Optional<JsonPath> inputPath, Optional<JsonPath> outputPath,
            List<ChoiceBranch> branches, String defaultNext) implements State {
    }

    record SucceedState(String name, Optional<JsonPath> inputPath, Optional<JsonPath> outputPath) implements State {
    }

    record FailState(String name, String error, String cause) implements State {
    }

    record Retrier(List<String> errorEquals, int intervalSeconds, int maxAttempts, double backoffRate,
            Integer maxDelaySeconds, boolean fullJitter) {
    }

    record Catcher(List<String> errorEquals, Optional<JsonPath> resultPath, String next) {
    }

    record ChoiceBranch(Condition condition, String next) {
    }

    /** A Choice rule; a missing Variable (other than for IsPresent) is a States.Runtime error. */
    sealed interface Condition permits And, Or, Not, Comparison {
        boolean test(JsonNode input);
    }

    record And(List<Condition> all) implements Condition {
        public boolean test(JsonNode input) {
            return all.stream().allMatch(c -> c.test(input));
        }
    }

    record Or(List<Condition> any) implements Condition {
        public boolean test(JsonNode input) {
            return any.stream().anyMatch(c -> c.test(input));
        }
    }

    record Not(Condition inner) implements Condition {
        public boolean test(JsonNode input) {
            return !inner.test(input);
        }
    }

    record Comparison(JsonPath variable, String operator, JsonNode expected) implements Condition {
        public boolean test(JsonNode input) {
            Optional<JsonNode> found = variable.read(input);
            if (operator.equals("IsPresent")) {
                return found.isPresent() == expected.booleanValue();
            }
            JsonNode v = found.orElseThrow(() -> new StatesError("States.Runtime", "Invalid path '" + variable
                    + "': The choice state's condition path references an invalid value."));
            return switch (operator) {
                case "IsNull" -> v.isNull() == expected.booleanValue();
                case "IsString" -> v.isTextual() == expected.booleanValue();
                case "IsNumeric" -> v.isNumber() == expected.booleanValue();
                case "IsBoolean" -> v.isBoolean() == expected.booleanValue();
                case "StringEquals" -> v.isTextual() && v.textValue().equals(expected.textValue());
                case "BooleanEquals" -> v.isBoolean() && v.booleanValue() == expected.booleanValue();
                default -> v.isNumber() && compareNumbers(operator, v.decimalValue().compareTo(expected.decimalValue()));
            };
        }

        private static boolean compareNumbers(String operator, int cmp) {
            return switch (operator) {
                case "NumericEquals" -> cmp == 0;
                case "NumericLessThan" -> cmp < 0;
                case "NumericLessThanEquals" -> cmp <= 0;
                case "NumericGreaterThan" -> cmp > 0;
                case "NumericGreaterThanEquals" -> cmp >= 0;
                default -> throw new IllegalStateException(operator);
            };
        }
    }

    /** Parses and validates; throws an InvalidDefinition {@link SfnApiException} naming the problem. */
    static AslDefinition parse(String json, ObjectMapper mapper) {
        JsonNode root;
        try {
            root = mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw invalid("INVALID_JSON_DESCRIPTION: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw invalid("INVALID_JSON_DESCRIPTION: the definition is not a JSON object");
        }
        checkFields(root, TOP_LEVEL, "the top level");
        if (root.has("QueryLanguage") && !"JSONPath".equals(root.get("QueryLanguage").asText())) {
            throw unsupported("QueryLanguage '" + root.get("QueryLanguage").asText() + "' (only JSONPath)");
        }
        String startAt = requiredText(root, "StartAt", "the top level");
        JsonNode statesNode = root.get("States");
        if (statesNode == null || !statesNode.isObject() || statesNode.isEmpty()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: 'States' must be a non-empty object");
        }
        Map<String, State> states = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = statesNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            states.put(e.getKey(), parseState(e.getKey(), e.getValue()));
        }
        requireTarget(states, startAt, "StartAt");
        for (State s : states.values()) {
            for (String target : targets(s)) {
                requireTarget(states, target, "state '" + s.name() + "'");
            }
        }
        Integer timeout = optionalPositiveInt(root, "TimeoutSeconds", "the top level");
        return new AslDefinition(startAt, Map.copyOf(states), timeout);
    }

    private static State parseState(String name, JsonNode node) {
        if (!node.isObject()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: state '" + name + "' is not an object");
        }
        String where = "state '" + name + "'";
        if (node.has("QueryLanguage") || node.has("Arguments") || node.has("Output") || node.has("Assign")) {
            throw unsupported("JSONata and variables (QueryLanguage, Arguments, Output, Assign) in " + where);
        }
        String type = requiredText(node, "Type", where);
        switch (type) {
            case "Task":
                return parseTask(name, node, where);
            case "Pass":
                checkFields(node, PASS_FIELDS, where);
                return new PassState(name, path(node, "InputPath", where), path(node, "OutputPath", where),
                        resultPath(node.get("ResultPath"), node.has("ResultPath"), where),
                        template(node.get("Parameters"), where + " Parameters"), node.get("Result"),
                        nextOrEnd(node, where));
            case "Choice":
                checkFields(node, CHOICE_FIELDS, where);
                JsonNode choices = node.get("Choices");
                if (choices == null || !choices.isArray() || choices.isEmpty()) {
                    throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " needs a non-empty 'Choices' array");
                }
                List<ChoiceBranch> branches = new ArrayList<>();
                for (JsonNode rule : choices) {
                    String next = requiredText(rule, "Next", where + " choice rule");
                    branches.add(new ChoiceBranch(condition(rule, true, where), next));
                }
                return new ChoiceState(name, path(node, "InputPath", where), path(node, "OutputPath", where),
                        List.copyOf(branches), node.has("Default") ? requiredText(node, "Default", where) : null);
            case "Succeed":
                checkFields(node, SUCCEED_FIELDS, where);
                return new SucceedState(name, path(node, "InputPath", where), path(node, "OutputPath", where));
            case "Fail":
                if (node.has("ErrorPath") || node.has("CausePath")) {
                    throw unsupported("ErrorPath and CausePath in " + where);
                }
                checkFields(node, FAIL_FIELDS, where);
                return new FailState(name, node.path("Error").textValue(), node.path("Cause").textValue());
            case "Map":
            case "Parallel":
            case "Wait":
                throw unsupported(type + " state (" + where + ")");
            default:
                throw invalid("SCHEMA_VALIDATION_FAILED: unknown state type '" + type + "' in " + where);
        }
    }

    private static TaskState parseTask(String name, JsonNode node, String where) {
        if (node.has("Credentials") || node.has("HeartbeatSecondsPath")) {
            throw unsupported("Credentials and HeartbeatSecondsPath in " + where);
        }
        checkFields(node, TASK_FIELDS, where);
        String resource = requiredText(node, "Resource", where);
        boolean wait;
        if (resource.equals(LAMBDA_INVOKE)) {
            wait = false;
        } else if (resource.equals(LAMBDA_INVOKE_WAIT)) {
            wait = true;
        } else {
            throw unsupported("Resource '" + resource + "' in " + where + " (only " + LAMBDA_INVOKE + " and "
                    + LAMBDA_INVOKE_WAIT + ")");
        }
        JsonNode params = node.get("Parameters");
        if (params == null || !params.isObject()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " needs 'Parameters' with a FunctionName");
        }
        params.fieldNames().forEachRemaining(f -> {
            if (!LAMBDA_PARAMETERS.contains(f)) {
                throw unsupported("Lambda parameter '" + f + "' in " + where + " (only FunctionName and Payload)");
            }
        });
        if (!params.has("FunctionName") && !params.has("FunctionName.$")) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " Parameters need a FunctionName");
        }
        template(params, where + " Parameters");
        if (wait && !params.toString().contains("\"$$.Task.Token\"")) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " uses .waitForTaskToken but its Parameters do not"
                    + " pass $$.Task.Token");
        }
        if (node.has("TimeoutSeconds") && node.has("TimeoutSecondsPath")) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " has both TimeoutSeconds and TimeoutSecondsPath");
        }
        JsonPath timeoutPath = null;
        if (node.has("TimeoutSecondsPath")) {
            timeoutPath = parsePath(requiredText(node, "TimeoutSecondsPath", where), where + " TimeoutSecondsPath");
        }
        return new TaskState(name, wait, params, path(node, "InputPath", where), path(node, "OutputPath", where),
                resultPath(node.get("ResultPath"), node.has("ResultPath"), where),
                template(node.get("ResultSelector"), where + " ResultSelector"),
                optionalPositiveInt(node, "TimeoutSeconds", where), timeoutPath,
                optionalPositiveInt(node, "HeartbeatSeconds", where), retriers(node.get("Retry"), where),
                catchers(node.get("Catch"), where), nextOrEnd(node, where));
    }

    private static List<Retrier> retriers(JsonNode retry, String where) {
        if (retry == null) {
            return List.of();
        }
        if (!retry.isArray()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " Retry must be an array");
        }
        List<Retrier> out = new ArrayList<>();
        for (int i = 0; i < retry.size(); i++) {
            JsonNode r = retry.get(i);
            String at = where + " Retry[" + i + "]";
            checkFields(r, RETRY_FIELDS, at);
            String jitter = r.has("JitterStrategy") ? r.get("JitterStrategy").asText() : "NONE";
            if (!jitter.equals("FULL") && !jitter.equals("NONE")) {
                throw invalid("SCHEMA_VALIDATION_FAILED: " + at + " JitterStrategy must be FULL or NONE");
            }
            double backoff = r.has("BackoffRate") ? r.get("BackoffRate").asDouble() : 2.0;
            if (backoff < 1.0) {
                throw invalid("SCHEMA_VALIDATION_FAILED: " + at + " BackoffRate must be at least 1.0");
            }
            Integer interval = optionalPositiveInt(r, "IntervalSeconds", at);
            int maxAttempts = r.has("MaxAttempts") ? nonNegativeInt(r.get("MaxAttempts"), at + " MaxAttempts") : 3;
            out.add(new Retrier(errorEquals(r, at, i == retry.size() - 1), interval == null ? 1 : interval,
                    maxAttempts, backoff, optionalPositiveInt(r, "MaxDelaySeconds", at), jitter.equals("FULL")));
        }
        return List.copyOf(out);
    }

    private static List<Catcher> catchers(JsonNode catches, String where) {
        if (catches == null) {
            return List.of();
        }
        if (!catches.isArray()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " Catch must be an array");
        }
        List<Catcher> out = new ArrayList<>();
        for (int i = 0; i < catches.size(); i++) {
            JsonNode c = catches.get(i);
            String at = where + " Catch[" + i + "]";
            checkFields(c, CATCH_FIELDS, at);
            out.add(new Catcher(errorEquals(c, at, i == catches.size() - 1),
                    resultPath(c.get("ResultPath"), c.has("ResultPath"), at), requiredText(c, "Next", at)));
        }
        return List.copyOf(out);
    }

    private static List<String> errorEquals(JsonNode node, String where, boolean last) {
        JsonNode names = node.get("ErrorEquals");
        if (names == null || !names.isArray() || names.isEmpty()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " needs a non-empty ErrorEquals");
        }
        List<String> out = new ArrayList<>();
        names.forEach(n -> out.add(n.asText()));
        if (out.contains("States.ALL") && (out.size() > 1 || !last)) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where
                    + " States.ALL must appear alone and in the last retrier or catcher");
        }
        return List.copyOf(out);
    }

    private static Condition condition(JsonNode rule, boolean topLevel, String where) {
        if (!rule.isObject()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " has a choice rule that is not an object");
        }
        Set<String> allowed = topLevel ? Set.of("Next") : Set.of();
        List<String> operators = new ArrayList<>();
        rule.fieldNames().forEachRemaining(f -> {
            if (!f.equals("Variable") && !f.equals("Comment") && !allowed.contains(f)) {
                operators.add(f);
            }
        });
        if (!topLevel && rule.has("Next")) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " has 'Next' inside a nested choice rule");
        }
        if (operators.size() != 1) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " choice rule needs exactly one operator, found "
                    + operators);
        }
        String op = operators.get(0);
        JsonNode value = rule.get(op);
        switch (op) {
            case "And":
            case "Or": {
                if (!value.isArray() || value.isEmpty()) {
                    throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " " + op + " needs a non-empty array");
                }
                List<Condition> inner = new ArrayList<>();
                value.forEach(v -> inner.add(condition(v, false, where)));
                return op.equals("And") ? new And(List.copyOf(inner)) : new Or(List.copyOf(inner));
            }
            case "Not":
                return new Not(condition(value, false, where));
            default:
                break;
        }
        if (!TYPE_TESTS.contains(op) && !COMPARISONS.contains(op)) {
            throw unsupported("choice operator '" + op + "' in " + where + " (supported: And, Or, Not, "
                    + String.join(", ", new java.util.TreeSet<>(COMPARISONS)) + ", "
                    + String.join(", ", new java.util.TreeSet<>(TYPE_TESTS)) + ")");
        }
        JsonPath variable = parsePath(requiredText(rule, "Variable", where + " choice rule"), where + " Variable");
        boolean typeOk = switch (op) {
            case "StringEquals" -> value.isTextual();
            case "BooleanEquals" -> value.isBoolean();
            case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan",
                    "NumericGreaterThanEquals" -> value.isNumber();
            default -> value.isBoolean();
        };
        if (!typeOk) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " " + op + " has a value of the wrong type");
        }
        return new Comparison(variable, op, value);
    }

    /** Validates a Parameters or ResultSelector template: every "key.$" holds a supported path. */
    private static JsonNode template(JsonNode node, String where) {
        if (node == null) {
            return null;
        }
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().endsWith(".$")) {
                    if (!e.getValue().isTextual()) {
                        throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " '" + e.getKey()
                                + "' must hold a path string");
                    }
                    parsePath(e.getValue().textValue(), where + " '" + e.getKey() + "'");
                } else {
                    template(e.getValue(), where);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> template(n, where));
        }
        return node;
    }

    private static Optional<JsonPath> path(JsonNode node, String field, String where) {
        if (!node.has(field)) {
            return Optional.of(JsonPath.parse("$"));
        }
        JsonNode v = node.get(field);
        if (v.isNull()) {
            return Optional.empty();
        }
        JsonPath p = parsePath(v.asText(), where + " " + field);
        if (p.isContext()) {
            throw unsupported("$$ in " + where + " " + field);
        }
        return Optional.of(p);
    }

    private static Optional<JsonPath> resultPath(JsonNode v, boolean present, String where) {
        if (!present) {
            return Optional.of(JsonPath.parse("$"));
        }
        if (v.isNull()) {
            return Optional.empty();
        }
        JsonPath p = parsePath(v.asText(), where + " ResultPath");
        if (p.isContext() || !p.isFieldsOnly()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " ResultPath '" + p + "' must be a $.field.field path");
        }
        return Optional.of(p);
    }

    private static JsonPath parsePath(String text, String where) {
        try {
            return JsonPath.parse(text);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw msg.startsWith("intrinsic") || msg.startsWith("unsupported")
                    ? unsupported(msg + " in " + where) : invalid("INVALID_JSON_PATH: " + msg + " in " + where);
        }
    }

    private static String nextOrEnd(JsonNode node, String where) {
        boolean end = node.path("End").asBoolean(false);
        if (end == node.has("Next")) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " needs exactly one of 'Next' and 'End: true'");
        }
        return end ? null : requiredText(node, "Next", where);
    }

    private static List<String> targets(State s) {
        List<String> out = new ArrayList<>();
        if (s instanceof TaskState t) {
            out.add(t.next());
            t.catchers().forEach(c -> out.add(c.next()));
        } else if (s instanceof PassState p) {
            out.add(p.next());
        } else if (s instanceof ChoiceState c) {
            c.branches().forEach(b -> out.add(b.next()));
            out.add(c.defaultNext());
        }
        out.removeIf(java.util.Objects::isNull);
        return out;
    }

    private static void requireTarget(Map<String, State> states, String target, String from) {
        if (!states.containsKey(target)) {
            throw invalid("MISSING_TRANSITION_TARGET: " + from + " refers to missing state '" + target + "'");
        }
    }

    private static void checkFields(JsonNode node, Set<String> allowed, String where) {
        if (!node.isObject()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " is not an object");
        }
        node.fieldNames().forEachRemaining(f -> {
            if (!allowed.contains(f)) {
                throw unsupported("field '" + f + "' in " + where);
            }
        });
    }

    private static String requiredText(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " needs a string '" + field + "'");
        }
        return v.textValue();
    }

    private static Integer optionalPositiveInt(JsonNode node, String field, String where) {
        if (!node.has(field)) {
            return null;
        }
        int v = nonNegativeInt(node.get(field), where + " " + field);
        if (v == 0) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " " + field + " must be positive");
        }
        return v;
    }

    private static int nonNegativeInt(JsonNode v, String where) {
        if (!v.isIntegralNumber() || v.decimalValue().compareTo(BigDecimal.ZERO) < 0 || !v.canConvertToInt()) {
            throw invalid("SCHEMA_VALIDATION_FAILED: " + where + " must be a non-negative integer");
        }
        return v.intValue();
    }

    private static SfnApiException invalid(String detail) {
        return new SfnApiException("InvalidDefinition", "Invalid State Machine Definition: '" + detail + "'");
    }

    private static SfnApiException unsupported(String feature) {
        return invalid("UNSUPPORTED_BY_EMULATOR: " + feature
                + " is not supported by the Policygate Step Functions emulator");
    }
}
