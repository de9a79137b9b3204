package dev.policygate.core.decision;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Operator by operator, the compiled evaluator ({@link CompiledPolicy}) against Cedar: for each
 * condition shape below, a permit and a forbid carrying it are decided for requests drawn from a
 * grid of boundary values (numbers next to the literal, overflow, prompts that match a pattern
 * only partly, absent optional attributes, principals in and out of the groups), by the shipped
 * engine and by the reference engine that gives every request to Cedar. The decisions must be
 * identical, and the shipped engine must have decided those of the compiled shapes in Java, so
 * that a wrong operator cannot hide behind a fallback. {@link CedarPolicyEngineDifferentialTest} mixes these
 * shapes into random policy sets.
 */
class CompiledPolicyDifferentialTest {
    private static final String SCHEMA = RepoPaths.schemaText();
    private static final String NS = "Policygate::";
    private static final int REQUESTS_PER_SHAPE = 160;

    private static final List<String> SHAPES = List.of(
            "context.max_tokens < 500", "context.max_tokens <= 500", "context.max_tokens > 500",
            "context.max_tokens >= 500", "context.max_tokens == 500", "context.max_tokens != 500",
            "context.max_tokens + 1 > 500", "context.max_tokens - 1 >= 499", "(context.max_tokens - 500) * 2 <= 2",
            "-context.max_tokens < -499", 
            
            "context.stream && context.max_tokens > 1", "context.stream || context.max_tokens > 1",
            "!context.stream", "if context.stream then context.max_tokens > 1 else context.max_tokens == 0",
            
            
            
            "context.prompt like \"w1\"", "context.prompt like \"*w1\"", "context.prompt like \"w1*\"",
            "context.prompt like \"*w1*\"", "context.prompt like \"w1*w2\"", "context.prompt like \"*w1*w2*\"",
            "context.prompt like \"*\\*\"", "context.prompt like \"\"", "context.prompt like \"*\"",
            "context.prompt like \"**w2\"", "context.prompt like \"*é*\"", "context.prompt == \"w1 w2\"",
            "context.detections.contains(\"pii:EMAIL\")",
            "context.detections.containsAll([\"pii:EMAIL\", \"secret:PRIVATE_KEY\"])",
            "context.detections.containsAny([\"pii:EMAIL\", \"secret:PRIVATE_KEY\"])",
            "context.detections.isEmpty()", "context.tools == [\"t0\"]", "context.tools == context.skills",
            "[\"t0\", \"t1\"].containsAll(context.tools)", "[0, 1, 500].contains(context.max_tokens)",
            "context.approval.granted", "context.approval has approver",
            "context.approval has approver && context.approval.approver == \"u0\"",
            "context has prompt", "principal has email", "principal has email && principal.email == \"x\"",
            "principal in " + NS + "Group::\"g0\"",
            "principal in [" + NS + "Group::\"g0\", " + NS + "Group::\"g1\"]",
            "principal in principal", NS + "User::\"u0\" in " + NS + "Group::\"g0\"", "resource in " + NS + "Model::\"m0\"",
            "principal is " + NS + "User", "principal is " + NS + "User in " + NS + "Group::\"g1\"",
            "resource is " + NS + "Model in [" + NS + "Model::\"m1\"]",
            "action == " + NS + "Action::\"invoke_model\"",
            "action in [" + NS + "Action::\"use_tool\", " + NS + "Action::\"invoke_model\"]",
            "{a: context.max_tokens, b: context.stream}.a == 500",
            "{a: context.max_tokens} == {a: 500}", "{a: 1, b: context.stream} != {a: 1, b: true}",
            "[{a: context.stream}].contains({a: true})",
            "[resource, " + NS + "Model::\"m1\"].contains(resource)",
            "context.operation == \"messages\" && context.estimated_input_tokens > 100");

    /** Shapes that Java leaves to Cedar for some or all requests: errors Cedar reports, addresses, extensions. */
    private static final List<String> LEFT_TO_CEDAR = List.of(
            "context.max_tokens * 9223372036854775807 > 0", "context.max_tokens + 9223372036854775807 > 0",
            // overflows for the largest max_tokens of the grid
            "context.max_tokens * 2 <= 1000",
            "-(context.max_tokens - 9223372036854775807 - 2) > 0",
            "if context.stream then 9223372036854775807 + context.max_tokens > 0 else true",
            "context.max_tokens > 500 && 9223372036854775807 + context.max_tokens > 0",
            "context.max_tokens > 500 || 9223372036854775807 + context.max_tokens > 0",
            "context.source_ip == context.source_ip", "{ip: context.source_ip} == {ip: context.source_ip}",
            // not compiled at all: the slice stays with Cedar
            "context.source_ip.isInRange(ip(\"2001:db8::/32\"))", "ip(\"::1\").isLoopback()");

    /** Shapes on addresses: Java decides the IPv4 requests, Cedar the IPv6 ones. */
    private static final List<String> ADDRESS_SHAPES = List.of(
            "context.source_ip.isInRange(ip(\"10.0.0.0/8\"))", "context.source_ip.isInRange(ip(\"10.1.2.3\"))",
            "context.source_ip.isInRange(ip(\"0.0.0.0/0\"))", "context.source_ip.isInRange(ip(\"192.0.2.0/31\"))",
            "context.source_ip.isInRange(ip(\"10.1.2.4/30\"))", "ip(\"10.1.0.0/16\").isInRange(context.source_ip)",
            "ip(\"10.1.2.3/32\").isInRange(context.source_ip)", "context.source_ip.isLoopback()",
            "context.source_ip.isMulticast()", "context.source_ip.isIpv4()", "context.source_ip.isIpv6()",
            "ip(\"224.0.0.0/3\").isMulticast()", "ip(\"224.0.0.0/4\").isMulticast()",
            "ip(\"127.1.0.0/4\").isLoopback()", "ip(\"127.1.0.0/7\").isLoopback()", "ip(\"127.1.0.0/8\").isLoopback()");

    @Test
    void decide_matchesCedar_forEveryCompiledOperatorAtItsBoundaries() {
        Random random = new Random(42);
        List<String> invalid = new ArrayList<>();
        List<String> notInJava = new ArrayList<>();
        long leftToCedar = 0;
        long addressInJava = 0;
        long addressDecisions = 0;
        for (String shape : concat(concat(SHAPES, LEFT_TO_CEDAR), ADDRESS_SHAPES)) {
            // GIVEN a permit and a forbid with the shape, in the shipped engine and in the reference
            Map<String, String> files = Map.of("p.cedar",
                    "@id(\"permit\") permit (principal, action == " + NS + "Action::\"invoke_model\", resource) when { "
                            + shape + " };\n"
                            + "@id(\"forbid\") @message(\"no\") forbid (principal in " + NS + "Group::\"g2\", action == "
                            + NS + "Action::\"invoke_model\", resource) when { " + shape + " };");
            CedarPolicyEngine fast;
            try {
                fast = CedarPolicyEngine.fromSources(SCHEMA, files);
            } catch (PolicyLoadException e) {
                invalid.add(shape + ": " + e.getMessage());
                continue;
            }
            CedarPolicyEngine reference = CedarPolicyEngine.fromSources(SCHEMA, files,
                    CedarPolicyEngine.Tuning.REFERENCE);

            // WHEN both decide the same boundary requests
            for (int i = 0; i < REQUESTS_PER_SHAPE; i++) {
                AuthzRequest request = request(random);
                Decision expected = reference.decide(request);
                Decision actual = fast.decide(request);
                // THEN the decisions are identical
                if (!comparable(actual).equals(comparable(expected))) {
                    fail("shape " + shape + "\nrequest:  " + request + "\nexpected: " + expected
                            + "\nactual:   " + actual);
                }
            }
            if (SHAPES.contains(shape) && (fast.compiledDecisions() == 0 || fast.cedarCalls() > 1)) {
                // one Cedar call is allowed: the first request with an IPv6 address proves that it parses
                notInJava.add(shape + ": " + fast.compiledDecisions() + " in Java, " + fast.cedarCalls() + " in Cedar");
            }
            leftToCedar += LEFT_TO_CEDAR.contains(shape) ? fast.cedarCalls() : 0;
            if (ADDRESS_SHAPES.contains(shape)) {
                addressInJava += fast.compiledDecisions();
                addressDecisions += fast.evaluations();
            }
        }
        assertThat(invalid).as("every shape is a valid policy").isEmpty();
        // AND Java decided every request of the compiled shapes (bar a remembered answer), and Cedar the rest
        assertThat(notInJava).as("shapes that reached Cedar").isEmpty();
        assertThat(leftToCedar).as("decisions left to Cedar").isGreaterThanOrEqualTo(LEFT_TO_CEDAR.size() * 20L);
        assertThat(addressInJava).as("address decisions in Java (IPv4)").isGreaterThanOrEqualTo(addressDecisions / 2);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void decide_failsClosedAsCedarDoes_whenAnEntityTypeIsAReservedWord() {
        // GIVEN a permit for everything, with and without a principal-scoped policy in the slice
        for (String extra : List.of("", "@id(\"g\") permit (principal in " + NS + "Group::\"g0\", action, resource);")) {
            Map<String, String> files = Map.of("p.cedar", "@id(\"p\") permit (principal, action, resource);\n" + extra);
            CedarPolicyEngine fast = CedarPolicyEngine.fromSources(SCHEMA, files);
            CedarPolicyEngine reference = CedarPolicyEngine.fromSources(SCHEMA, files, CedarPolicyEngine.Tuning.REFERENCE);
            for (String word : List.of("if", "true", "in", "is", "has", "like", "then", "__cedar")) {
                // WHEN the principal, a context reference or a resource attribute has such a type
                List<AuthzRequest> requests = List.of(
                        new AuthzRequest(new EntityRef(word, "x"), Set.of(), Action.read_session,
                                EntityRef.session("s"), Map.of(), Map.of()),
                        new AuthzRequest(EntityRef.user("u0"), Set.of("g0"), Action.read_session,
                                EntityRef.session("s"), Map.of(), Map.of("x", new EntityRef(word, "y"))),
                        new AuthzRequest(EntityRef.user("u0"), Set.of(), Action.read_session, EntityRef.session("s"),
                                Map.of("owner", new EntityRef(word, "y")), Map.of()));
                for (AuthzRequest request : requests) {
                    // THEN the decision is Cedar's (an engine failure, so DENY), never an ALLOW from Java
                    Decision expected = reference.decide(request);
                    assertThat(comparable(fast.decide(request))).as("%s: %s", word, request)
                            .isEqualTo(comparable(expected));
                    assertThat(expected.outcome()).isEqualTo(Outcome.DENY);
                }
            }
        }
    }

    @Test
    void compile_leavesToCedar_whatItDoesNotModel() {
        // GIVEN policies using the decimal extension, a template slot and an extension value literal
        String est = "{\"effect\":\"permit\",\"principal\":{\"op\":\"All\"},\"action\":{\"op\":\"All\"},"
                + "\"resource\":{\"op\":\"All\"},\"conditions\":[{\"kind\":\"when\",\"body\":{\"lessThan\":"
                + "[{\"decimal\":[{\"Value\":\"1.0\"}]},{\"decimal\":[{\"Value\":\"2.0\"}]}]}}]}";
        String slot = "{\"effect\":\"permit\",\"principal\":{\"op\":\"==\",\"slot\":\"?principal\"},"
                + "\"action\":{\"op\":\"All\"},\"resource\":{\"op\":\"All\"},\"conditions\":[]}";
        String extn = "{\"effect\":\"permit\",\"principal\":{\"op\":\"All\"},\"action\":{\"op\":\"All\"},"
                + "\"resource\":{\"op\":\"All\"},\"conditions\":[{\"kind\":\"when\",\"body\":{\"Value\":"
                + "{\"__extn\":{\"fn\":\"ip\",\"arg\":\"1.2.3.4\"}}}}]}";

        // THEN none compiles, so the engine gives their slices to Cedar
        assertThat(CompiledPolicy.compile("a", false, est)).isNull();
        assertThat(CompiledPolicy.compile("b", false, slot)).isNull();
        assertThat(CompiledPolicy.compile("c", false, extn)).isNull();
        assertThat(CompiledPolicy.compile("d", false, "not json")).isNull();
        assertThat(CompiledPolicy.compile("e", false, (String) null)).isNull();
    }

    private static AuthzRequest request(Random random) {
        String[] groups = {"g0", "g1", "g2"};
        Set<String> parents = new TreeSet<>();
        for (String g : groups) {
            if (random.nextInt(3) == 0) {
                parents.add(g);
            }
        }
        long maxTokens = pick(random, 0L, 1L, 499L, 500L, 501L, 1_000L, 4_611_686_018_427_387_904L);
        String prompt = pick(random, "", "w1", "w1 w2", "xw1y", "w2 w1", "*", "a*", "w1w2", "é", "w1 w2 w2");
        Set<String> detections = new TreeSet<>();
        if (random.nextBoolean()) {
            detections.add("pii:EMAIL");
        }
        if (random.nextInt(3) == 0) {
            detections.add("secret:PRIVATE_KEY");
        }
        Set<String> tools = random.nextBoolean() ? Set.of("t0") : random.nextBoolean() ? Set.of() : Set.of("t0", "t2");
        Map<String, Object> context = Contexts.invokeModel(prompt, detections, maxTokens, random.nextBoolean(),
                pick(random, 0, 100, 101, 5_000), random.nextInt(3) == 0, random.nextBoolean() ? null : pick(random, "u0", "u1"),
                pick(random, "10.1.2.3", "192.0.2.1", "2001:db8::1", "127.0.0.1",
                        "224.0.0.1", "239.255.255.255", "10.1.2.7", "11.0.0.0", "0.0.0.0", "255.255.255.255"), pick(random, "messages", "count_tokens"),
                tools, random.nextBoolean() ? Set.of("t0") : Set.of(), Set.of());
        return new AuthzRequest(EntityRef.user(pick(random, "u0", "u1")), parents, Action.invoke_model,
                EntityRef.model(pick(random, "m0", "m1")), Map.of(), context);
    }

    private static List<Object> comparable(Decision decision) {
        return List.of(decision.outcome(), new TreeSet<>(decision.policyIds()), new TreeSet<>(decision.messages()),
                new TreeSet<>(decision.approvalGroups()), new TreeSet<>(decision.errors()));
    }

    @SafeVarargs
    private static <T> T pick(Random random, T... values) {
        return values[random.nextInt(values.length)];
    }
}
