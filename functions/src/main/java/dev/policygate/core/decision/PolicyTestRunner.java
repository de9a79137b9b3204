package dev.policygate.core.decision;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs the policy test cases of a folder ({@code cedar-policies/tests/**.json}) against a
 * {@link PolicyEngine}: the test suite and the CLI share it.
 *
 * <p>Each file holds one case object or an array of them:
 * <pre>{@code
 * {"name": "...", "principal": {"type": "User", "id": "alice", "groups": ["developers"]},
 *  "action": "invoke_model", "resource": {"type": "Model", "id": "claude-sonnet-4-5"},
 *  "resource_attributes": {"owner": {"__entity": {"type": "User", "id": "bob"}}},
 *  "context": {"max_tokens": 10000},
 *  "expect": "APPROVAL", "expect_policies": ["..."], "expect_approval_groups": ["approvers"],
 *  "expect_messages": ["..."]}
 * }</pre>
 * The context starts from {@link Contexts#defaults(Action)}; the case overrides the keys it names
 * (records merge key by key). {@code {"__entity": {"type", "id"}}} is an entity reference and
 * {@code {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}} an IP address; a plain string also becomes
 * an IP address or entity where the default value is one. Integers become Long, arrays become sets.
 *
 * <p>A file that cannot be read, or a malformed case, is reported as a failed case rather than
 * thrown, so that one bad file does not hide the results of the others.
 */
public final class PolicyTestRunner {
    private static final String ENTITY_KEY = "__entity";
    private static final String EXTENSION_KEY = "__extn";

    /** The result of one case. {@code detail} says what was decided, and on failure what was expected. */
    public record CaseResult(String file, String name, boolean passed, String detail) {
    }

    private PolicyTestRunner() {
    }

    /**
     * Runs every {@code *.json} file under {@code testsDir}, in path order.
     *
     * @throws IllegalArgumentException if {@code testsDir} is not a folder
     */
    public static List<CaseResult> run(PolicyEngine engine, Path testsDir) {
        Objects.requireNonNull(engine, "engine");
        if (!Files.isDirectory(testsDir)) {
            throw new IllegalArgumentException("not a folder: " + testsDir);
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(testsDir)) {
            files = walk.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().endsWith(".json"))
                    .sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot list " + testsDir + ": " + e.getMessage(), e);
        }
        List<CaseResult> results = new ArrayList<>();
        for (Path file : files) {
            String name = testsDir.relativize(file).toString().replace('\\', '/');
            JsonNode root;
            try {
                root = Json.mapper().readTree(Files.readString(file));
            } catch (IOException | RuntimeException e) {
                results.add(new CaseResult(name, name, false, "cannot read: " + e.getMessage()));
                continue;
            }
            if (root != null && root.isArray()) {
                for (int i = 0; i < root.size(); i++) {
                    results.add(runCase(engine, name, root.get(i), i));
                }
            } else {
                results.add(runCase(engine, name, root, 0));
            }
        }
        return results;
    }

    private static CaseResult runCase(PolicyEngine engine, String file, JsonNode node, int index) {
        String name = node != null && node.hasNonNull("name") ? node.get("name").asText() : "#" + index;
        try {
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("a case must be a JSON object");
            }
            Outcome expected = Outcome.valueOf(required(node, "expect").asText());
            Decision decision = engine.decide(request(node));
            List<String> problems = new ArrayList<>();
            if (decision.outcome() != expected) {
                problems.add("expected " + expected);
            }
            compare(node, "expect_policies", decision.policyIds(), problems);
            compare(node, "expect_approval_groups", decision.approvalGroups(), problems);
            compare(node, "expect_messages", decision.messages(), problems);
            String got = decision.outcome() + " " + decision.policyIds()
                    + (decision.approvalGroups().isEmpty() ? "" : " approvers " + new TreeSet<>(decision.approvalGroups()))
                    + (decision.messages().isEmpty() ? "" : " " + decision.messages())
                    + (decision.errors().isEmpty() ? "" : " errors " + decision.errors());
            return problems.isEmpty() ? new CaseResult(file, name, true, got)
                    : new CaseResult(file, name, false, String.join(", ", problems) + "; got " + got);
        } catch (RuntimeException e) {
            return new CaseResult(file, name, false, "malformed case: " + e.getMessage());
        }
    }

    /** Builds the request that a case describes. */
    static AuthzRequest request(JsonNode node) {
        JsonNode principal = required(node, "principal");
        Set<String> groups = new LinkedHashSet<>();
        principal.path("groups").forEach(g -> groups.add(g.asText()));
        Action action = Action.valueOf(required(node, "action").asText());
        Map<String, Object> context = merge(Contexts.defaults(action), node.path("context"));
        Map<String, Object> resourceAttributes = merge(Map.of(), node.path("resource_attributes"));
        return new AuthzRequest(entity(principal, "User"), groups, action, entity(required(node, "resource"), null),
                resourceAttributes, context);
    }

    private static EntityRef entity(JsonNode node, String defaultType) {
        String type = node.hasNonNull("type") ? node.get("type").asText() : defaultType;
        if (type == null || !node.hasNonNull("id")) {
            throw new IllegalArgumentException("an entity needs \"type\" and \"id\": " + node);
        }
        return new EntityRef(type, node.get("id").asText());
    }

    private static Map<String, Object> merge(Map<String, Object> defaults, JsonNode overrides) {
        Map<String, Object> merged = new LinkedHashMap<>(defaults);
        if (overrides.isMissingNode() || overrides.isNull()) {
            return merged;
        }
        if (!overrides.isObject()) {
            throw new IllegalArgumentException("expected a JSON object: " + overrides);
        }
        for (Map.Entry<String, JsonNode> field : overrides.properties()) {
            Object value = value(field.getValue(), defaults.get(field.getKey()));
            if (value == null) {
                merged.remove(field.getKey());
            } else {
                merged.put(field.getKey(), value);
            }
        }
        return merged;
    }

    @SuppressWarnings("unchecked")
    private static Object value(JsonNode node, Object defaultValue) {
        if (node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            if (defaultValue instanceof IpAddress) {
                return new IpAddress(node.asText());
            }
            if (defaultValue instanceof EntityRef ref) {
                return new EntityRef(ref.type(), node.asText());
            }
            return node.asText();
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.asLong();
        }
        if (node.isArray()) {
            Set<Object> set = new LinkedHashSet<>();
            node.forEach(item -> set.add(Objects.requireNonNull(value(item, null), "null in a set")));
            return set;
        }
        if (node.isObject()) {
            if (node.size() == 1 && node.has(ENTITY_KEY)) {
                return entity(node.get(ENTITY_KEY), null);
            }
            if (node.size() == 1 && node.has(EXTENSION_KEY)) {
                JsonNode extension = node.get(EXTENSION_KEY);
                if (!"ip".equals(extension.path("fn").asText()) || !extension.path("arg").isTextual()) {
                    throw new IllegalArgumentException("only the ip extension is supported: " + node);
                }
                return new IpAddress(extension.get("arg").asText());
            }
            Map<String, Object> base = defaultValue instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
            return merge(base, node);
        }
        throw new IllegalArgumentException("unsupported value (Cedar has no decimals): " + node);
    }

    private static void compare(JsonNode node, String key, Collection<String> actual, List<String> problems) {
        if (!node.has(key)) {
            return;
        }
        Set<String> expected = new TreeSet<>();
        node.get(key).forEach(v -> expected.add(v.asText()));
        if (!expected.equals(new TreeSet<>(actual))) {
            problems.add(key + " " + expected);
        }
    }

    private static JsonNode required(JsonNode node, String key) {
        if (!node.hasNonNull(key)) {
            throw new IllegalArgumentException("missing \"" + key + "\"");
        }
        return node.get(key);
    }
}
