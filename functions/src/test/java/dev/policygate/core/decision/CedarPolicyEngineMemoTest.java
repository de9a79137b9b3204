package dev.policygate.core.decision;

import com.cedarpolicy.model.policy.PolicySet;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Which decisions the engine remembers, and that a remembered decision is the one it would have made. */
class CedarPolicyEngineMemoTest {
    private static final String SCHEMA = RepoPaths.schemaText();
    private static final String DEVELOPERS = """
            @id("developers")
            permit(principal in Policygate::Group::"developers", action, resource);
            """;
    private static final String NO_TOOL_ONE = """
            @id("no-tool-1")
            forbid(principal, action == Policygate::Action::"use_tool", resource == Policygate::Tool::"tool-1")
            unless { principal in Policygate::Group::"admins" };
            """;
    private static final String NO_SECRETS_TO_TOOLS = """
            @id("no-secrets-to-tools")
            forbid(principal, action == Policygate::Action::"use_tool", resource)
            when { context.detections.contains("secret:PRIVATE_KEY") };
            """;
    private static final String BASH = """
            @id("bash") @approval("approvers")
            forbid(principal, action == Policygate::Action::"use_tool", resource == Policygate::Tool::"bash")
            unless { context.approval.granted };
            """;
    private static final String PII_READERS = """
            @id("pii-readers")
            permit(principal in Policygate::Group::"pii-readers", action == Policygate::Action::"read_unmasked",
                   resource is Policygate::DataClass)
            when { context.direction == "reply" };
            """;

    private static CedarPolicyEngine engine(CedarPolicyEngine.Tuning tuning, String... policies) {
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < policies.length; i++) {
            files.put("p" + i + ".cedar", policies[i]);
        }
        return CedarPolicyEngine.fromSources(SCHEMA, files, tuning);
    }

    private static CedarPolicyEngine engine(String... policies) {
        return engine(CedarPolicyEngine.Tuning.FAST, policies);
    }

    private static AuthzRequest useTool(Set<String> groups, String tool, Map<String, Object> context) {
        return new AuthzRequest(EntityRef.user("alice"), groups, Action.use_tool, EntityRef.tool(tool), Map.of(),
                context);
    }

    private static Map<String, Object> toolContext(Set<String> detections, String sourceIp) {
        return Contexts.useItem("claude-sonnet-4-5", detections, false, false, null, sourceIp);
    }

    private static Map<String, Object> with(Map<String, Object> context, String key, Object value) {
        Map<String, Object> changed = new HashMap<>(context);
        changed.put(key, value);
        return changed;
    }

    private static AuthzRequest readUnmasked(String user, String dataClass, Map<String, Object> resourceAttributes,
                                             Map<String, Object> context) {
        return new AuthzRequest(EntityRef.user(user), Set.of("pii-readers"), Action.read_unmasked,
                EntityRef.dataClass(dataClass), resourceAttributes, context);
    }

    // ---- context-free slices ---------------------------------------------------------------------

    @Test
    void decide_memoises_whenNoApplicablePolicyReadsContext() {
        // GIVEN use_tool policies that read only the principal and the resource
        CedarPolicyEngine engine = engine(DEVELOPERS, NO_TOOL_ONE);
        CedarPolicyEngine reference = engine(CedarPolicyEngine.Tuning.REFERENCE, DEVELOPERS, NO_TOOL_ONE);
        assertThat(engine.contextReadFor(Action.use_tool, EntityRef.tool("get_weather"))).isFalse();
        assertThat(engine.contextReadFor(Action.use_tool, EntityRef.tool("tool-1"))).isFalse();

        // WHEN the same user asks for the same tools with different contexts
        List<AuthzRequest> requests = List.of(
                useTool(Set.of("developers"), "get_weather", toolContext(Set.of(), "2001:db8::1")),
                useTool(Set.of("developers"), "get_weather", toolContext(Set.of(), "2001:db8::1")),
                useTool(Set.of("developers"), "get_weather", toolContext(Set.of("pii:EMAIL"), "2001:db8::1")),
                useTool(Set.of("developers"), "tool-1", toolContext(Set.of(), "2001:db8::1")),
                useTool(Set.of("developers"), "tool-1", toolContext(Set.of("secret:PRIVATE_KEY"), "2001:db8::1")));
        List<Decision> decisions = new ArrayList<>();
        requests.forEach(request -> decisions.add(engine.decide(request)));

        // THEN the very first call admits the address; the next of each key is remembered, the rest recalled
        assertThat(engine.memoHits()).isEqualTo(2);
        assertThat(engine.memoisedDecisions()).isEqualTo(2);
        assertThat(decisions).extracting(Decision::outcome)
                .containsExactly(Outcome.ALLOW, Outcome.ALLOW, Outcome.ALLOW, Outcome.DENY, Outcome.DENY);
        for (int i = 0; i < requests.size(); i++) {
            assertThat(decisions.get(i)).as("request %d", i).isEqualTo(reference.decide(requests.get(i)));
        }
    }

    @Test
    void decide_doesNotMemoise_whenAnApplicablePolicyReadsContext() {
        // GIVEN a use_tool forbid that reads the detections
        CedarPolicyEngine engine = engine(DEVELOPERS, NO_SECRETS_TO_TOOLS);
        assertThat(engine.contextReadFor(Action.use_tool, EntityRef.tool("get_weather"))).isTrue();

        // WHEN the same user asks for the same tool, first with a harmless context, then with a secret
        Decision clean = engine.decide(useTool(Set.of("developers"), "get_weather", toolContext(Set.of(), "2001:db8::1")));
        Decision again = engine.decide(useTool(Set.of("developers"), "get_weather", toolContext(Set.of(), "2001:db8::1")));
        Decision secret = engine.decide(useTool(Set.of("developers"), "get_weather",
                toolContext(Set.of("secret:PRIVATE_KEY"), "2001:db8::1")));

        // THEN each is evaluated, so the context decides
        assertThat(clean.outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(again).isEqualTo(clean);
        assertThat(secret.outcome()).isEqualTo(Outcome.DENY);
        assertThat(engine.memoHits()).isZero();
        assertThat(engine.memoisedDecisions()).isZero();
    }

    @Test
    void decide_memoisesPerSlice_whenOnlyOneResourcesPoliciesReadContext() {
        // GIVEN a context-free action slice, and a bash slice whose forbid reads the approval
        CedarPolicyEngine engine = engine(DEVELOPERS, BASH);
        assertThat(engine.contextReadFor(Action.use_tool, EntityRef.tool("get_weather"))).isFalse();
        assertThat(engine.contextReadFor(Action.use_tool, EntityRef.tool("bash"))).isTrue();
        Map<String, Object> context = toolContext(Set.of(), "2001:db8::1");

        // WHEN bash and another tool are each asked three times
        for (int i = 0; i < 3; i++) {
            assertThat(engine.decide(useTool(Set.of("developers"), "bash", context)).outcome())
                    .isEqualTo(Outcome.APPROVAL);
            assertThat(engine.decide(useTool(Set.of("developers"), "get_weather", context)).outcome())
                    .isEqualTo(Outcome.ALLOW);
        }

        // THEN only the other tool is remembered (the first bash call proved the address, so from its first
        // call on); an approved bash call is still evaluated on its context
        assertThat(engine.memoisedDecisions()).isEqualTo(1);
        assertThat(engine.memoHits()).isEqualTo(2);
        assertThat(engine.decide(useTool(Set.of("developers"), "bash",
                Contexts.useItem("claude-sonnet-4-5", Set.of(), false, true, "carol", "2001:db8::1"))).outcome())
                .isEqualTo(Outcome.ALLOW);
    }

    @Test
    void decide_keepsPrincipalsGroupsActionsAndResourcesApart() {
        CedarPolicyEngine engine = engine(DEVELOPERS, NO_TOOL_ONE);
        Map<String, Object> context = toolContext(Set.of(), "2001:db8::1");
        engine.decide(useTool(Set.of("developers"), "get_weather", context));

        for (int i = 0; i < 2; i++) {
            assertThat(engine.decide(useTool(Set.of("developers"), "get_weather", context)).outcome())
                    .isEqualTo(Outcome.ALLOW);
            assertThat(engine.decide(useTool(Set.of("contractors"), "get_weather", context)).outcome())
                    .isEqualTo(Outcome.DENY);
            assertThat(engine.decide(useTool(Set.of("developers"), "tool-1", context)).outcome())
                    .isEqualTo(Outcome.DENY);
            assertThat(engine.decide(useTool(Set.of("developers", "admins"), "tool-1", context)).outcome())
                    .isEqualTo(Outcome.ALLOW);
            assertThat(engine.decide(new AuthzRequest(EntityRef.user("bob"), Set.of(), Action.use_skill,
                    EntityRef.skill("get_weather"), Map.of(), context)).outcome()).isEqualTo(Outcome.DENY);
        }
        assertThat(engine.memoisedDecisions()).isEqualTo(5);
    }

    @Test
    void decide_evaluatesAnAddressOnce_beforeRememberingContextsThatCarryIt() {
        // GIVEN a context-free slice
        CedarPolicyEngine engine = engine(DEVELOPERS);

        // WHEN one address comes three times
        for (int i = 0; i < 3; i++) {
            engine.decide(useTool(Set.of("developers"), "get_weather", toolContext(Set.of(), "2001:db8::7")));
        }

        // THEN the first call proves that Cedar parses it, the second is remembered, the third answered from memory
        assertThat(engine.memoisedDecisions()).isEqualTo(1);
        assertThat(engine.memoHits()).isEqualTo(1);
    }

    @Test
    void decide_evaluatesAgain_whenTheContextCouldFailToParseOrAddsEntities() {
        // GIVEN a remembered ALLOW for a context-free slice
        CedarPolicyEngine engine = engine(DEVELOPERS);
        CedarPolicyEngine reference = engine(CedarPolicyEngine.Tuning.REFERENCE, DEVELOPERS);
        Map<String, Object> good = toolContext(Set.of(), "2001:db8::1");
        for (int i = 0; i < 3; i++) {
            engine.decide(useTool(Set.of("developers"), "get_weather", good));
        }
        assertThat(engine.memoHits()).isEqualTo(1);

        // WHEN the same key comes with contexts that Cedar rejects, or that the memo cannot vouch for
        Object deep = "leaf";
        for (int i = 0; i < 200; i++) {
            deep = Map.of("k", deep);
        }
        List<Map<String, Object>> rejected = List.of(
                toolContext(Set.of(), "010.1.2.3"),
                toolContext(Set.of(), "not-an-ip"),
                with(good, "extra", Map.of("__entity", "x")),
                with(good, "extra", deep),
                with(good, "temperature", 0.7));
        for (Map<String, Object> context : rejected) {
            AuthzRequest request = useTool(Set.of("developers"), "get_weather", context);
            Decision decision = engine.decide(request);

            // THEN each is evaluated and fails closed, exactly as without memo
            assertThat(decision.outcome()).as("%s", context).isEqualTo(Outcome.DENY);
            assertThat(decision.errors()).as("%s", context).isNotEmpty();
            assertThat(decision).isEqualTo(reference.decide(request));
        }
        // AND contexts that Cedar accepts but the memo does not vouch for are evaluated too
        engine.decide(useTool(Set.of("developers"), "get_weather", with(good, "who", EntityRef.user("bob"))));
        engine.decide(useTool(Set.of("developers"), "get_weather", with(good, "__extn", "x")));
        engine.decide(useTool(Set.of("developers"), "get_weather", toolContext(Set.of(), "2001:db8::2")));
        assertThat(engine.memoHits()).isEqualTo(1);
    }

    @Test
    void decide_treatsAPolicyAsReadingContext_whenItsConditionIsTooDeepToRead() {
        // GIVEN a context-free condition nested deeper than the project's JSON limit
        String deep = "principal in Policygate::Group::\"g0\"" + " && principal in Policygate::Group::\"g1\"".repeat(70);
        CedarPolicyEngine engine = engine(DEVELOPERS,
                "@id(\"deep\") forbid(principal, action == Policygate::Action::\"use_tool\", resource) when { "
                        + deep + " };");

        // THEN it counts as reading the context (fail safe), and the tool slice is not memoised
        assertThat(engine.contextReadFor(Action.use_tool, EntityRef.tool("get_weather"))).isTrue();
        assertThat(engine.contextReadFor(Action.use_skill, EntityRef.skill("s"))).isFalse();
    }

    @Test
    void contextUse_findsTheContext_onlyWhereAConditionNamesIt() throws Exception {
        Map<String, Boolean> readsContext = new LinkedHashMap<>();
        readsContext.put("permit(principal, action, resource);", false);
        readsContext.put("permit(principal, action, resource) when { principal in Policygate::Group::\"context\" };",
                false);
        readsContext.put("@context(\"Var\") permit(principal, action, resource) when { \"context\" == \"Var\" };",
                false);
        readsContext.put("permit(principal, action, resource) when { resource.owner == principal };", false);
        readsContext.put("permit(principal, action, resource) when { context.stream };", true);
        readsContext.put("permit(principal, action, resource) when { context has stream };", true);
        readsContext.put("permit(principal, action, resource) when { principal in context.group };", true);
        readsContext.put("permit(principal, action, resource) unless { context.approval.granted };", true);
        readsContext.put("permit(principal, action, resource) unless { [context.stream].contains(true) };", true);
        for (Map.Entry<String, Boolean> policy : readsContext.entrySet()) {
            String est = PolicySet.parsePolicies(policy.getKey()).policies.iterator().next().toJson();
            assertThat(ContextUse.readsContext(est)).as(policy.getKey()).isEqualTo(policy.getValue());
        }
        // Anything not understood counts as reading the context.
        for (String est : new String[]{null, "", "[]", "{", "{\"conditions\":1}",
                "{\"conditions\":[{\"kind\":\"when\",\"body\":{\"Var\":{\"x\":1}}}]}",
                "{\"conditions\":[{\"kind\":\"when\",\"body\":{\"Var\":\"unknown\"}}]}"}) {
            assertThat(ContextUse.readsContext(est)).as(String.valueOf(est)).isTrue();
        }
    }

    // ---- context in the key (read_unmasked) ------------------------------------------------------

    @Test
    void decide_remembersReadUnmasked_perPrincipalGroupsResourceAndDirection() {
        CedarPolicyEngine engine = engine(PII_READERS);

        Decision first = engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Contexts.readUnmasked("reply")));
        Decision again = engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Contexts.readUnmasked("reply")));
        Decision prompt = engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Contexts.readUnmasked("prompt")));

        assertThat(first.outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(again).isEqualTo(first);
        assertThat(prompt.outcome()).isEqualTo(Outcome.DENY);
        assertThat(engine.memoisedDecisions()).isEqualTo(2);
        assertThat(engine.memoHits()).isEqualTo(1);
    }

    @Test
    void decide_doesNotRemember_whenTheDecisionCouldDependOnMoreThanTheKey() {
        CedarPolicyEngine engine = engine(PII_READERS);

        engine.decide(readUnmasked("alice", "EMAIL", Map.of("label", "x"), Contexts.readUnmasked("reply")));
        engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Map.of("direction", "reply", "extra", Set.of())));
        engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Map.of("direction", "x".repeat(200))));
        engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Map.of("direction", "reply", "a", 1L, "b", 2L,
                "c", 3L, "d", 4L)));
        engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Map.of("direction", EntityRef.group("g"))));

        assertThat(engine.memoisedDecisions()).isZero();
    }

    @Test
    void decide_neverRemembersADecisionWithEvaluationErrors() {
        // GIVEN a forbid that overflows for prompts, so it cannot be evaluated
        CedarPolicyEngine engine = engine(PII_READERS, """
                @id("overflows")
                forbid(principal, action == Policygate::Action::"read_unmasked", resource)
                when { if context.direction == "prompt" then 9223372036854775807 + 1 > 0 else false };
                """);

        Decision first = engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Contexts.readUnmasked("prompt")));
        Decision again = engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Contexts.readUnmasked("prompt")));

        assertThat(first.outcome()).isEqualTo(Outcome.DENY);
        assertThat(first.messages()).containsExactly("policy overflows could not be evaluated");
        assertThat(again).isEqualTo(first);
        assertThat(engine.memoisedDecisions()).isZero();
    }

    // ---- bounds and threads ----------------------------------------------------------------------

    @Test
    void memo_forgetsEverything_whenFull() {
        DecisionMemo memo = new DecisionMemo(2, new CedarAddresses());
        Decision allow = new Decision(Outcome.ALLOW, List.of("p"), List.of(), Set.of(), List.of());
        for (String user : List.of("a", "b", "c")) {
            memo.put(memo.keyOf(readUnmasked(user, "EMAIL", Map.of(), Contexts.readUnmasked("reply")), true), allow);
        }

        assertThat(memo.size()).isEqualTo(1);
        assertThat(memo.get(memo.keyOf(readUnmasked("c", "EMAIL", Map.of(), Contexts.readUnmasked("reply")), true)))
                .isEqualTo(allow);
    }

    @Test
    void decide_remembersNothing_withTheReferenceTuning() {
        CedarPolicyEngine engine = engine(CedarPolicyEngine.Tuning.REFERENCE, PII_READERS, DEVELOPERS);

        engine.decide(readUnmasked("alice", "EMAIL", Map.of(), Contexts.readUnmasked("reply")));
        engine.decide(useTool(Set.of("developers"), "get_weather", toolContext(Set.of(), "2001:db8::1")));

        assertThat(engine.memoisedDecisions()).isZero();
        assertThat(engine.memoHits()).isZero();
    }

    @Test
    void decide_givesTheReferenceAnswers_fromManyThreadsSharingTheMemo() throws Exception {
        CedarPolicyEngine engine = engine(new CedarPolicyEngine.Tuning(true, 32, 3), DEVELOPERS, NO_TOOL_ONE);
        CedarPolicyEngine reference = engine(CedarPolicyEngine.Tuning.REFERENCE, DEVELOPERS, NO_TOOL_ONE);
        List<AuthzRequest> requests = new ArrayList<>();
        for (String tool : List.of("get_weather", "tool-1")) {
            for (Set<String> groups : List.of(Set.of("developers"), Set.of("developers", "admins"), Set.<String>of())) {
                requests.add(useTool(groups, tool, toolContext(Set.of(), "2001:db8::1")));
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Decision>> futures = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                AuthzRequest request = requests.get(i % requests.size());
                futures.add(pool.submit(() -> engine.decide(request)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertThat(futures.get(i).get()).isEqualTo(reference.decide(requests.get(i % requests.size())));
            }
        } finally {
            pool.shutdownNow();
        }
        // A capacity of 3 for 6 keys: the memo keeps clearing and refilling, and never grows past it.
        assertThat(engine.memoisedDecisions()).isLessThanOrEqualTo(3 + 4);
        assertThat(engine.memoHits()).isPositive();
    }
}
