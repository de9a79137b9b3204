package dev.policygate.core.decision;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** How the engine slices policies by action and resource, without changing any decision. */
class CedarPolicyEngineSlicingTest {
    private static final String SCHEMA = RepoPaths.schemaText();
    private static final String EVERY_ACTION = """
            @id("every-action")
            permit(principal in Policygate::Group::"developers", action, resource);
            """;
    private static final String INVOKE_ONLY = """
            @id("invoke-only")
            forbid(principal, action == Policygate::Action::"invoke_model", resource) when { context.max_tokens > 8192 };
            """;
    private static final String TOOLS_AND_SKILLS = """
            @id("tools-and-skills")
            forbid(principal, action in [Policygate::Action::"use_tool", Policygate::Action::"use_skill"], resource)
            when { context.stream };
            """;
    private static final String SESSIONS_BY_IN = """
            @id("sessions-by-in")
            permit(principal, action in Policygate::Action::"read_session", resource);
            """;
    private static final String BASH = """
            @id("bash") @approval("approvers")
            forbid(principal, action == Policygate::Action::"use_tool", resource == Policygate::Tool::"bash")
            unless { context.approval.granted };
            """;
    private static final String TOOL_ONE = """
            @id("tool-1")
            forbid(principal, action == Policygate::Action::"use_tool", resource == Policygate::Tool::"tool-1");
            """;
    private static final String ANY_TOOL = """
            @id("any-tool")
            forbid(principal, action == Policygate::Action::"use_tool", resource is Policygate::Tool)
            when { context.detections.contains("secret:PRIVATE_KEY") };
            """;

    private static CedarPolicyEngine engine(CedarPolicyEngine.Tuning tuning, String... policies) {
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < policies.length; i++) {
            files.put("p" + i + ".cedar", policies[i]);
        }
        return CedarPolicyEngine.fromSources(SCHEMA, files, tuning);
    }

    private static final String ALICE_ONLY = """
            @id("alice-only")
            forbid(principal == Policygate::User::"alice", action == Policygate::Action::"invoke_model", resource)
            when { context.stream };
            """;
    private static final String DATA_TEAM = """
            @id("data-team")
            forbid(principal is Policygate::User in Policygate::Group::"data", action == Policygate::Action::"invoke_model",
                   resource) when { context.max_tokens > 100 };
            """;

    private static AuthzRequest invoke(String user, Set<String> groups) {
        return new AuthzRequest(EntityRef.user(user), groups, Action.invoke_model, EntityRef.model("m"), null,
                Contexts.invokeModel("hi", Set.of(), 1000, true, 10, false, null, "127.0.0.1", "messages", Set.of(),
                        Set.of(), Set.of()));
    }

    // ---- slicing ---------------------------------------------------------------------------------

    @Test
    void decide_givesCedarOnlyThePoliciesWhosePrincipalScopeTheRequestMatches() {
        // GIVEN a policy for developers, one for user alice, one for the data group, and one for anyone
        CedarPolicyEngine engine = engine(CedarPolicyEngine.Tuning.FAST, EVERY_ACTION, ALICE_ONLY, DATA_TEAM,
                INVOKE_ONLY);

        // THEN each principal's slice holds the unscoped policy plus the scoped ones it matches
        assertThat(engine.policyIdsFor(invoke("bob", Set.of()))).containsExactly("invoke-only");
        assertThat(engine.policyIdsFor(invoke("bob", Set.of("developers"))))
                .containsExactly("every-action", "invoke-only");
        assertThat(engine.policyIdsFor(invoke("alice", Set.of("data"))))
                .containsExactly("alice-only", "data-team", "invoke-only");
        assertThat(engine.policyIdsFor(invoke("carol", Set.of("data", "developers"))))
                .containsExactly("data-team", "every-action", "invoke-only");
        // AND the decisions are those of the whole set
        CedarPolicyEngine reference = engine(CedarPolicyEngine.Tuning.REFERENCE, EVERY_ACTION, ALICE_ONLY, DATA_TEAM,
                INVOKE_ONLY);
        for (AuthzRequest request : List.of(invoke("alice", Set.of("developers")), invoke("bob", Set.of("developers")),
                invoke("carol", Set.of("data", "developers")), invoke("alice", Set.of("data", "developers")))) {
            assertThat(engine.decide(request)).isEqualTo(reference.decide(request));
        }
        assertThat(engine.cached()).isTrue();
    }

    @Test
    void load_givesEachActionOnlyThePoliciesItsActionScopeCanMatch() {
        // GIVEN an unconstrained policy, one for one action, one for a list, and one with `action in A`
        CedarPolicyEngine engine = engine(CedarPolicyEngine.Tuning.FAST,
                EVERY_ACTION, INVOKE_ONLY, TOOLS_AND_SKILLS, SESSIONS_BY_IN);

        // THEN each action's slice holds the unconstrained policy plus those naming the action
        assertThat(engine.policyIdsFor(Action.invoke_model)).containsExactly("every-action", "invoke-only");
        assertThat(engine.policyIdsFor(Action.use_tool)).containsExactly("every-action", "tools-and-skills");
        assertThat(engine.policyIdsFor(Action.use_skill)).containsExactly("every-action", "tools-and-skills");
        assertThat(engine.policyIdsFor(Action.read_session)).containsExactly("every-action", "sessions-by-in");
        assertThat(engine.policyIdsFor(Action.read_unmasked)).containsExactly("every-action");
        assertThat(engine.policyIdsFor(Action.approve)).containsExactly("every-action");
        assertThat(engine.cached()).isTrue();
    }

    @Test
    void load_givesEveryActionEveryPolicy_withTheReferenceTuning() {
        CedarPolicyEngine engine = engine(CedarPolicyEngine.Tuning.REFERENCE, EVERY_ACTION, INVOKE_ONLY, TOOLS_AND_SKILLS);

        for (Action action : Action.values()) {
            assertThat(engine.policyIdsFor(action)).containsExactly("every-action", "invoke-only", "tools-and-skills");
        }
    }

    @Test
    void load_slicesByActionScope_evenWhenTheConditionIsNestedDeeperThanTheJsonLimit() {
        // GIVEN a condition whose JSON form nests far deeper than the project's 64-level parser limit
        String deep = "context.max_tokens > 0" + " && context.max_tokens > 1".repeat(60);
        CedarPolicyEngine engine = engine(CedarPolicyEngine.Tuning.FAST, EVERY_ACTION,
                "@id(\"deep\") forbid(principal, action == Policygate::Action::\"invoke_model\", resource) when { "
                        + deep + " };");

        // THEN the scope is still read from the part before the condition
        assertThat(engine.policyIdsFor(Action.invoke_model)).containsExactly("deep", "every-action");
        assertThat(engine.policyIdsFor(Action.use_tool)).containsExactly("every-action");
    }

    @Test
    void policyScope_isEveryAction_whenTheActionScopeIsNotUnderstood() throws Exception {
        List<String> notUnderstood = List.of(
                "{\"op\":\"is\",\"entity_type\":\"Policygate::Action\"}",
                "{\"op\":\"==\",\"entity\":{\"type\":\"Policygate::Action\",\"id\":\"all-actions-group\"}}",
                "{\"op\":\"in\",\"entity\":{\"type\":\"Other::Action\",\"id\":\"invoke_model\"}}",
                "{\"op\":\"in\",\"entities\":[{\"type\":\"Policygate::Action\",\"id\":\"use_tool\"},"
                        + "{\"type\":\"Policygate::Action\",\"id\":\"group\"}]}",
                "{\"op\":\"==\",\"slot\":\"?action\"}",
                "{}");
        for (String scope : notUnderstood) {
            assertThat(PolicyScope.actions(json(scope))).as(scope).isEqualTo(EnumSet.allOf(Action.class));
        }
    }

    @Test
    void policyScope_readsActionReferences_inEitherJsonForm() throws Exception {
        assertThat(PolicyScope.actions(json(
                "{\"op\":\"==\",\"entity\":{\"__entity\":{\"type\":\"Policygate::Action\",\"id\":\"approve\"}}}")))
                .containsExactly(Action.approve);
        assertThat(PolicyScope.actions(json(
                "{\"op\":\"in\",\"entities\":[{\"type\":\"Policygate::Action\",\"id\":\"use_tool\"}]}")))
                .containsExactly(Action.use_tool);
    }

    @Test
    void policyScope_namesAResource_onlyForResourceEquals() throws Exception {
        assertThat(PolicyScope.resource(json(
                "{\"op\":\"==\",\"entity\":{\"type\":\"Policygate::Tool\",\"id\":\"bash\"}}")))
                .isEqualTo(CedarPolicyEngine.uid(EntityRef.tool("bash")));
        assertThat(PolicyScope.resource(json(
                "{\"op\":\"==\",\"entity\":{\"__entity\":{\"type\":\"Policygate::Tool\",\"id\":\"bash\"}}}")))
                .isEqualTo(CedarPolicyEngine.uid(EntityRef.tool("bash")));
        for (String scope : List.of("{\"op\":\"All\"}", "{\"op\":\"is\",\"entity_type\":\"Policygate::Tool\"}",
                "{\"op\":\"in\",\"entity\":{\"type\":\"Policygate::Group\",\"id\":\"g\"}}",
                "{\"op\":\"==\",\"slot\":\"?resource\"}")) {
            assertThat(PolicyScope.resource(json(scope))).as(scope).isNull();
        }
    }

    @Test
    void load_givesEachResourceNamedByAScope_itsOwnSliceOnTopOfTheActionSlice() {
        // GIVEN a permit for every action, forbids for two named tools, and one for every tool
        CedarPolicyEngine engine = engine(CedarPolicyEngine.Tuning.FAST, EVERY_ACTION, BASH, TOOL_ONE, ANY_TOOL);

        // THEN a named tool gets its own policies, and any other tool only the general ones
        assertThat(engine.policyIdsFor(Action.use_tool, EntityRef.tool("bash")))
                .containsExactly("any-tool", "bash", "every-action");
        assertThat(engine.policyIdsFor(Action.use_tool, EntityRef.tool("tool-1")))
                .containsExactly("any-tool", "every-action", "tool-1");
        assertThat(engine.policyIdsFor(Action.use_tool, EntityRef.tool("get_weather")))
                .containsExactly("any-tool", "every-action");
        assertThat(engine.policyIdsFor(Action.use_tool, EntityRef.mcpServer("bash")))
                .containsExactly("any-tool", "every-action");
        assertThat(engine.policyIdsFor(Action.invoke_model, EntityRef.tool("bash"))).containsExactly("every-action");

        // AND the decisions are those of the reference engine
        CedarPolicyEngine reference = engine(CedarPolicyEngine.Tuning.REFERENCE, EVERY_ACTION, BASH, TOOL_ONE, ANY_TOOL);
        for (String tool : List.of("bash", "tool-1", "get_weather")) {
            AuthzRequest request = new AuthzRequest(EntityRef.user("alice"), Set.of("developers"), Action.use_tool,
                    EntityRef.tool(tool), Map.of(), Contexts.useItem("m", Set.of(), false, false, null, "10.0.0.1"));
            assertThat(engine.decide(request)).as(tool).isEqualTo(reference.decide(request));
        }
        assertThat(engine.decide(new AuthzRequest(EntityRef.user("alice"), Set.of("developers"), Action.use_tool,
                EntityRef.tool("bash"), Map.of(), Contexts.useItem("m", Set.of(), false, false, null, "10.0.0.1")))
                .outcome()).isEqualTo(Outcome.APPROVAL);
    }

    @Test
    void load_keepsResourcePoliciesInTheActionSlice_beyondTheResourceSliceBudget() {
        // GIVEN room for one resource slice, and two named tools
        CedarPolicyEngine engine = engine(new CedarPolicyEngine.Tuning(true, 1, 0), EVERY_ACTION, BASH, TOOL_ONE);

        // THEN use_tool is sliced by action only
        assertThat(engine.policyIdsFor(Action.use_tool, EntityRef.tool("bash")))
                .containsExactly("bash", "every-action", "tool-1");
        assertThat(engine.policyIdsFor(Action.use_tool)).containsExactly("bash", "every-action", "tool-1");
    }

    @Test
    void load_cachesFewNativeSets_forTheRepositoryPolicies() {
        CedarPolicyEngine engine = CedarPolicyEngine.load(RepoPaths.policiesDir());

        // Cedar's native cache holds 1,024 sets per process; the class Javadoc quotes this number.
        assertThat(engine.cachedSetCount()).isEqualTo(6);
        assertThat(engine.cached()).isTrue();
    }

    @Test
    void decide_stillOffersApproval_onlyWhenAPermitOfTheSameActionWouldAllow() {
        // GIVEN an approvable forbid on invoke_model and a permit only for use_tool
        CedarPolicyEngine engine = engine(CedarPolicyEngine.Tuning.FAST, """
                @id("tool-permit")
                permit(principal, action == Policygate::Action::"use_tool", resource);
                @id("big-budget") @approval("approvers")
                forbid(principal, action == Policygate::Action::"invoke_model", resource)
                when { context.max_tokens > 8192 } unless { context.approval.granted };
                """);

        // WHEN a big generation is asked for
        Decision decision = engine.decide(new AuthzRequest(EntityRef.user("alice"), Set.of(), Action.invoke_model,
                EntityRef.model("m"), Map.of(), Contexts.invokeModel("hi", Set.of(), 10_000, false, 1, false, null,
                "10.0.0.1", Contexts.OPERATION_MESSAGES, Set.of(), Set.of(), Set.of())));

        // THEN no approval is offered, because nothing would permit invoke_model afterwards
        assertThat(decision.outcome()).isEqualTo(Outcome.DENY);
        assertThat(decision.policyIds()).containsExactly("big-budget");
        assertThat(decision.approvalGroups()).isEmpty();
    }

    private static JsonNode json(String text) throws Exception {
        return Json.mapper().readTree(text);
    }
}
