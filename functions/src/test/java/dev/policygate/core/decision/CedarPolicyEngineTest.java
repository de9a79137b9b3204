package dev.policygate.core.decision;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CedarPolicyEngineTest {
    private static final String SCHEMA = RepoPaths.schemaText();
    private static final String PERMIT_DEVELOPERS = """
            @id("developers")
            permit(principal in Policygate::Group::"developers", action, resource);
            """;
    private static final String BIG_BUDGET = """
            @id("big-budget")
            @approval("approvers")
            @message("Big budgets need approval.")
            forbid(principal, action == Policygate::Action::"invoke_model", resource)
            when { context.max_tokens > 8192 } unless { context.approval.granted };
            """;
    private static final String STREAMING = """
            @id("a-streaming")
            @approval("leads")
            @message("Streaming needs approval.")
            forbid(principal, action == Policygate::Action::"invoke_model", resource)
            when { context.stream } unless { context.approval.granted };
            """;
    private static final String NO_PRIVATE_KEYS = """
            @id("no-private-keys")
            @message("Private keys may not be sent.")
            forbid(principal, action == Policygate::Action::"invoke_model", resource)
            when { context.detections.contains("secret:PRIVATE_KEY") };
            """;

    private static CedarPolicyEngine engine(String... policies) {
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < policies.length; i++) {
            files.put("p" + i + ".cedar", policies[i]);
        }
        return CedarPolicyEngine.fromSources(SCHEMA, files);
    }

    private static Map<String, Object> invokeContext(String prompt, Set<String> detections, long maxTokens,
                                                     boolean stream, String sourceIp) {
        return Contexts.invokeModel(prompt, detections, maxTokens, stream, 10, false, null, sourceIp,
                Contexts.OPERATION_MESSAGES, Set.of(), Set.of(), Set.of());
    }

    private static AuthzRequest invoke(Set<String> groups, Map<String, Object> context) {
        return new AuthzRequest(EntityRef.user("alice"), groups, Action.invoke_model,
                EntityRef.model("claude-sonnet-4-5"), Map.of(), context);
    }

    private static AuthzRequest developerInvokes(long maxTokens, boolean stream, Set<String> detections) {
        return invoke(Set.of("developers"), invokeContext("hello", detections, maxTokens, stream, "10.0.0.1"));
    }

    // ---- outcome mapping -------------------------------------------------------------------------

    @Test
    void decide_returnsApproval_whenOnlyApprovableForbidsMatch() {
        // GIVEN two approvable forbids naming different approver groups
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, BIG_BUDGET, STREAMING);

        // WHEN a developer asks for a big, streamed generation
        Decision decision = engine.decide(developerInvokes(10_000, true, Set.of()));

        // THEN approval is needed from both groups, with both reasons in id order
        assertThat(decision.outcome()).isEqualTo(Outcome.APPROVAL);
        assertThat(decision.policyIds()).containsExactly("a-streaming", "big-budget");
        assertThat(decision.approvalGroups()).containsExactlyInAnyOrder("approvers", "leads");
        assertThat(decision.messages()).containsExactly("Streaming needs approval.", "Big budgets need approval.");
        assertThat(decision.errors()).isEmpty();
    }

    @Test
    void decide_returnsAllow_afterApprovalIsGranted() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, BIG_BUDGET);
        Map<String, Object> approved = Contexts.invokeModel("hello", Set.of(), 10_000, false, 10, true, "carol",
                "10.0.0.1", Contexts.OPERATION_MESSAGES, Set.of(), Set.of(), Set.of());

        Decision decision = engine.decide(invoke(Set.of("developers"), approved));

        assertThat(decision.outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(decision.policyIds()).containsExactly("developers");
    }

    @Test
    void decide_returnsDeny_whenOneDecidingForbidIsNotApprovable() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, BIG_BUDGET, NO_PRIVATE_KEYS);

        Decision decision = engine.decide(developerInvokes(10_000, false, Set.of("secret:PRIVATE_KEY")));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENY);
        assertThat(decision.policyIds()).containsExactly("big-budget", "no-private-keys");
        assertThat(decision.approvalGroups()).isEmpty();
        assertThat(decision.messages()).containsExactly("Big budgets need approval.", "Private keys may not be sent.");
    }

    @Test
    void decide_returnsDenyWithNoPolicyIds_whenNothingPermits() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, NO_PRIVATE_KEYS);

        Decision decision = engine.decide(invoke(Set.of("contractors"),
                invokeContext("hello", Set.of(), 100, false, "10.0.0.1")));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENY);
        assertThat(decision.policyIds()).isEmpty();
        assertThat(decision.messages()).isEmpty();
        assertThat(decision.errors()).isEmpty();
    }

    @Test
    void decide_returnsDeny_whenApprovableForbidMatchesButNoPermitWouldAllow() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, BIG_BUDGET);

        Decision decision = engine.decide(invoke(Set.of("contractors"),
                invokeContext("hello", Set.of(), 10_000, false, "10.0.0.1")));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENY);
        assertThat(decision.policyIds()).containsExactly("big-budget");
        assertThat(decision.approvalGroups()).isEmpty();
    }

    @Test
    void decide_returnsAllowWithEverySatisfiedPermit() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, """
                @id("sonnet-for-all")
                permit(principal, action == Policygate::Action::"invoke_model",
                       resource == Policygate::Model::"claude-sonnet-4-5");
                """);

        Decision decision = engine.decide(developerInvokes(100, false, Set.of()));

        assertThat(decision.outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(decision.allowed()).isTrue();
        assertThat(decision.policyIds()).containsExactly("developers", "sonnet-for-all");
        assertThat(decision.messages()).isEmpty();
    }

    @Test
    void decide_carriesTheMessageOfTheDecidingForbid() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, NO_PRIVATE_KEYS, BIG_BUDGET);

        Decision decision = engine.decide(developerInvokes(100, false, Set.of("secret:PRIVATE_KEY")));

        assertThat(decision.policyIds()).containsExactly("no-private-keys");
        assertThat(decision.messages()).containsExactly("Private keys may not be sent.");
    }

    // ---- loading ---------------------------------------------------------------------------------

    @Test
    void load_namesPoliciesByIdAnnotation_elseFileStemAndIndex() {
        CedarPolicyEngine engine = CedarPolicyEngine.fromSources(SCHEMA, Map.of("team/rules.cedar", """
                permit(principal in Policygate::Group::"a", action, resource);
                @id("named") @message("hello")
                forbid(principal in Policygate::Group::"b", action, resource);
                permit(principal in Policygate::Group::"c", action, resource);
                """));

        assertThat(engine.policyCount()).isEqualTo(3);
        assertThat(engine.policyIds()).containsExactly("named", "rules.0", "rules.2");
        assertThat(engine.annotation("named", "message")).contains("hello");
        assertThat(engine.annotation("named", "approval")).isEmpty();
        assertThat(engine.annotation("missing", "message")).isEmpty();

        Decision decision = engine.decide(new AuthzRequest(EntityRef.user("u"), Set.of("c"), Action.read_session,
                EntityRef.session("s"), Map.of(), Contexts.readSession()));
        assertThat(decision.policyIds()).containsExactly("rules.2");
    }

    @Test
    void load_rejectsDuplicateIds() {
        assertThatThrownBy(() -> engine(PERMIT_DEVELOPERS, PERMIT_DEVELOPERS))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("duplicate policy id \"developers\"")
                .hasMessageContaining("p1.cedar");
    }

    @Test
    void load_rejectsUnknownAttribute_withTheValidatorsMessage() {
        assertThatThrownBy(() -> engine("""
                @id("typo")
                forbid(principal, action == Policygate::Action::"invoke_model", resource)
                when { context.max_token > 10 };
                """))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("p0.cedar")
                .hasMessageContaining("typo")
                .hasMessageContaining("max_token")
                .hasMessageContaining("not found");
    }

    @Test
    void load_rejectsWrongType_withTheValidatorsMessage() {
        assertThatThrownBy(() -> engine("""
                @id("prompt-as-number")
                forbid(principal, action == Policygate::Action::"invoke_model", resource)
                when { context.prompt > 10 };
                """))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("prompt-as-number")
                .hasMessageContaining("expected Long but saw String");
    }

    @Test
    void load_rejectsUnknownEntityType() {
        assertThatThrownBy(() -> engine("""
                @id("no-such-type")
                permit(principal in Policygate::Team::"x", action, resource);
                """))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("no-such-type")
                .hasMessageContaining("Team");
    }

    @Test
    void load_rejectsParseErrors_namingTheFile() {
        assertThatThrownBy(() -> engine(PERMIT_DEVELOPERS, "permit(principal, action, resource) when { ;"))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("p1.cedar")
                .hasMessageContaining("does not parse");
    }

    @Test
    void load_rejectsApprovalOnAPermit() {
        assertThatThrownBy(() -> engine("""
                @id("odd") @approval("approvers")
                permit(principal, action, resource);
                """))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("odd")
                .hasMessageContaining("@approval");
    }

    @Test
    void load_rejectsTemplates() {
        assertThatThrownBy(() -> engine("permit(principal == ?principal, action, resource);"))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("templates");
    }

    @Test
    void load_rejectsASchemaThatDoesNotParse() {
        assertThatThrownBy(() -> CedarPolicyEngine.fromSources("namespace Policygate { entity ", Map.of()))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining("schema");
    }

    @Test
    void load_readsCedarFilesRecursively_skippingTheTestsFolder(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(CedarPolicyEngine.SCHEMA_FILE), SCHEMA);
        Files.createDirectories(dir.resolve("policies/team"));
        Files.createDirectories(dir.resolve("tests"));
        Files.writeString(dir.resolve("policies/access.cedar"), PERMIT_DEVELOPERS);
        Files.writeString(dir.resolve("policies/team/limits.cedar"), BIG_BUDGET + "\n"
                + "forbid(principal, action == Policygate::Action::\"use_skill\", resource == Policygate::Skill::\"x\");");
        Files.writeString(dir.resolve("tests/broken.cedar"), "this is not cedar");
        Files.writeString(dir.resolve("policies/notes.txt"), "ignored");

        CedarPolicyEngine engine = CedarPolicyEngine.load(dir);

        assertThat(engine.policyIds()).containsExactly("big-budget", "developers", "limits.1");
    }

    @Test
    void load_failsWhenTheSchemaIsMissing(@TempDir Path dir) {
        assertThatThrownBy(() -> CedarPolicyEngine.load(dir))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageContaining(CedarPolicyEngine.SCHEMA_FILE);
    }

    @Test
    void load_cachesThePolicySets_soDecisionsTakeTheFastPath() {
        // GIVEN 100 policies (timing is for the JMH benchmark; here the structure is asserted)
        Map<String, String> files = new LinkedHashMap<>();
        files.put("access.cedar", PERMIT_DEVELOPERS);
        for (int i = 0; i < 99; i++) {
            files.put("terms" + i + ".cedar", "forbid(principal, action == Policygate::Action::\"invoke_model\", resource)"
                    + " when { context.prompt like \"*forbidden-term-" + i + "*\" };");
        }
        CedarPolicyEngine engine = CedarPolicyEngine.fromSources(SCHEMA, files);

        // THEN the sets are cached and 1,000 decisions on them stay correct
        assertThat(engine.cached()).isTrue();
        assertThat(engine.policyCount()).isEqualTo(100);
        for (int i = 0; i < 1_000; i++) {
            String prompt = i % 100 == 7 ? "say forbidden-term-42 now" : "hello " + i;
            Decision decision = engine.decide(invoke(Set.of("developers"),
                    invokeContext(prompt, Set.of(), 100, false, "10.0.0.1")));
            assertThat(decision.outcome()).isEqualTo(i % 100 == 7 ? Outcome.DENY : Outcome.ALLOW);
        }
    }

    // ---- fail closed -----------------------------------------------------------------------------

    @Test
    void decide_failsClosed_whenAForbidCannotBeEvaluated() {
        // GIVEN a context without max_tokens, which the budget forbid reads
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, BIG_BUDGET);
        Map<String, Object> context = new HashMap<>(invokeContext("hello", Set.of(), 100, false, "10.0.0.1"));
        context.remove("max_tokens");

        Decision decision = engine.decide(invoke(Set.of("developers"), context));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENY);
        assertThat(decision.policyIds()).containsExactly("big-budget");
        assertThat(decision.messages()).containsExactly("policy big-budget could not be evaluated");
        assertThat(decision.approvalGroups()).isEmpty();
        assertThat(decision.errors()).singleElement().asString().startsWith("big-budget: ").contains("max_tokens");
    }

    @Test
    void decide_treatsAnErrorInAPermit_asThatPermitNotApplying() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, """
                @id("broken-permit")
                permit(principal, action == Policygate::Action::"invoke_model", resource)
                when { context.max_tokens > 0 };
                """);
        Map<String, Object> context = new HashMap<>(invokeContext("hello", Set.of(), 100, false, "10.0.0.1"));
        context.remove("max_tokens");

        Decision decision = engine.decide(invoke(Set.of("developers"), context));

        assertThat(decision.outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(decision.policyIds()).containsExactly("developers");
        assertThat(decision.errors()).singleElement().asString().startsWith("broken-permit: ");
    }

    @Test
    void decide_deniesWithoutThrowing_whenAContextValueHasNoCedarType() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS);
        Map<String, Object> context = new HashMap<>(invokeContext("hello", Set.of(), 100, false, "10.0.0.1"));
        context.put("temperature", 0.7);

        Decision decision = engine.decide(invoke(Set.of("developers"), context));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENY);
        assertThat(decision.policyIds()).isEmpty();
        assertThat(decision.errors()).singleElement().asString().contains("unsupported Cedar value type");
    }

    @Test
    void decide_deniesWithoutThrowing_whenTheSourceIpIsInvalid() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS);

        Decision decision = engine.decide(invoke(Set.of("developers"),
                invokeContext("hello", Set.of(), 100, false, "not-an-ip")));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENY);
        assertThat(decision.errors()).isNotEmpty();
    }

    // ---- context and entities --------------------------------------------------------------------

    @Test
    void decide_comparesTheSourceIp_withIsInRange() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, """
                @id("office-only") @message("Only from the office network.")
                forbid(principal, action == Policygate::Action::"invoke_model", resource)
                unless { context.source_ip.isInRange(ip("10.0.0.0/8")) || context.source_ip.isInRange(ip("2001:db8::/32")) };
                """);

        assertThat(engine.decide(invoke(Set.of("developers"), invokeContext("hi", Set.of(), 1, false, "10.20.30.40")))
                .outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(engine.decide(invoke(Set.of("developers"), invokeContext("hi", Set.of(), 1, false, "2001:db8::1")))
                .outcome()).isEqualTo(Outcome.ALLOW);
        Decision outside = engine.decide(invoke(Set.of("developers"), invokeContext("hi", Set.of(), 1, false, "192.0.2.1")));
        assertThat(outside.outcome()).isEqualTo(Outcome.DENY);
        assertThat(outside.messages()).containsExactly("Only from the office network.");
    }

    @Test
    void decide_matchesTheNormalisedPrompt_withLike() {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, """
                @id("no-delete") @message("Prompts about deleting are blocked.")
                forbid(principal, action == Policygate::Action::"invoke_model", resource)
                when { context.prompt like "*delete*" };
                """);

        Decision blocked = engine.decide(invoke(Set.of("developers"),
                invokeContext("please delete the prod table", Set.of(), 1, false, "10.0.0.1")));
        Decision allowed = engine.decide(invoke(Set.of("developers"),
                invokeContext("please list the prod tables", Set.of(), 1, false, "10.0.0.1")));

        assertThat(blocked.outcome()).isEqualTo(Outcome.DENY);
        assertThat(blocked.policyIds()).containsExactly("no-delete");
        assertThat(allowed.outcome()).isEqualTo(Outcome.ALLOW);
    }

    @Test
    void decide_readsTheSessionOwner_fromResourceAttributes() {
        CedarPolicyEngine engine = engine("""
                @id("owner-developers")
                permit(principal, action == Policygate::Action::"read_session", resource)
                when { principal == resource.owner && principal in Policygate::Group::"developers" };
                """);

        Decision own = engine.decide(readSession("alice", Set.of("developers"), "alice"));
        Decision other = engine.decide(readSession("alice", Set.of("developers"), "bob"));

        assertThat(own.outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(own.policyIds()).containsExactly("owner-developers");
        assertThat(other.outcome()).isEqualTo(Outcome.DENY);
    }

    @Test
    void decide_resolvesAGroupInTheContext_forApprove() {
        CedarPolicyEngine engine = engine("""
                @id("members")
                permit(principal, action == Policygate::Action::"approve", resource) when { principal in context.group };
                @id("not-own") @message("You cannot approve your own request.")
                forbid(principal, action == Policygate::Action::"approve", resource) when { principal == resource.owner };
                """);

        assertThat(engine.decide(approve("carol", Set.of("approvers"), "alice", "approvers")).outcome())
                .isEqualTo(Outcome.ALLOW);
        assertThat(engine.decide(approve("carol", Set.of("approvers"), "alice", "leads")).outcome())
                .isEqualTo(Outcome.DENY);
        Decision own = engine.decide(approve("carol", Set.of("approvers"), "carol", "approvers"));
        assertThat(own.outcome()).isEqualTo(Outcome.DENY);
        assertThat(own.messages()).containsExactly("You cannot approve your own request.");
    }

    @Test
    void decide_givesTheSameAnswers_fromManyThreads() throws Exception {
        CedarPolicyEngine engine = engine(PERMIT_DEVELOPERS, BIG_BUDGET, NO_PRIVATE_KEYS);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                long budget = i % 2 == 0 ? 100 : 10_000;
                futures.add(pool.submit(() -> engine.decide(developerInvokes(budget, false, Set.of())).outcome()));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertThat(futures.get(i).get()).isEqualTo(i % 2 == 0 ? Outcome.ALLOW : Outcome.APPROVAL);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static AuthzRequest readSession(String user, Set<String> groups, String owner) {
        return new AuthzRequest(EntityRef.user(user), groups, Action.read_session, EntityRef.session("s-1"),
                Map.of("owner", EntityRef.user(owner), "status", "COMPLETED"), Contexts.readSession());
    }

    private static AuthzRequest approve(String user, Set<String> groups, String owner, String group) {
        return new AuthzRequest(EntityRef.user(user), groups, Action.approve, EntityRef.session("s-1"),
                Map.of("owner", EntityRef.user(owner), "status", "PENDING_APPROVAL"), Contexts.approve(group));
    }
}
