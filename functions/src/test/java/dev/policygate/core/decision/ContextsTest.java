package dev.policygate.core.decision;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ContextsTest {
    private static final CedarPolicyEngine ENGINE = CedarPolicyEngine.load(RepoPaths.policiesDir());

    @Test
    void invokeModel_fillsEveryKeyOfTheSchema() {
        Map<String, Object> context = Contexts.invokeModel("hello", Set.of("pii:EMAIL"), 2048, true, 12, false, null,
                "192.0.2.1", Contexts.OPERATION_COUNT_TOKENS, Set.of("web_search"), Set.of("pptx"), Set.of("github"));

        assertThat(context.keySet()).containsExactly("prompt", "detections", "max_tokens", "stream",
                "estimated_input_tokens", "approval", "source_ip", "operation", "tools", "skills", "mcp_servers");
        assertThat(context).containsEntry("max_tokens", 2048L)
                .containsEntry("source_ip", new IpAddress("192.0.2.1"))
                .containsEntry("approval", Map.of("granted", false))
                .containsEntry("skills", Set.of("pptx"));
    }

    @Test
    void invokeModel_recordsTheApprover_onlyWhenKnown() {
        Map<String, Object> context = Contexts.invokeModel("", null, 0, false, 0, true, "carol", "::1",
                Contexts.OPERATION_LIST_MODELS, null, null, null);

        assertThat(context.get("approval")).isEqualTo(Map.of("granted", true, "approver", "carol"));
        assertThat(context.get("detections")).isEqualTo(Set.of());
        assertThat(context.get("tools")).isEqualTo(Set.of());
    }

    @Test
    void invokeModel_keepsSetsSorted_soRecordingsAreStable() {
        Map<String, Object> context = Contexts.invokeModel("", Set.of("pii:PHONE", "pii:EMAIL", "secret:JWT"), 0, false,
                0, false, null, "10.0.0.1", Contexts.OPERATION_MESSAGES, Set.of(), Set.of(), Set.of());

        assertThat(List.<Object>copyOf((Set<?>) context.get("detections"))).containsExactly("pii:EMAIL", "pii:PHONE", "secret:JWT");
    }

    @Test
    void invokeModel_rejectsAnUnknownOperation() {
        assertThatThrownBy(() -> Contexts.invokeModel("", Set.of(), 0, false, 0, false, null, "10.0.0.1", "batches",
                Set.of(), Set.of(), Set.of())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batches");
    }

    @Test
    void readUnmasked_acceptsOnlyPromptOrReply() {
        assertThat(Contexts.readUnmasked("prompt")).isEqualTo(Map.of("direction", "prompt"));
        assertThatThrownBy(() -> Contexts.readUnmasked("sideways")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void approve_namesTheGroupAsAnEntity() {
        assertThat(Contexts.approve("approvers")).isEqualTo(Map.of("group", EntityRef.group("approvers")));
        assertThat(Contexts.readSession()).isEmpty();
    }

    @Test
    void defaults_produceContextsThatEvaluateWithoutErrors_forEveryAction() {
        // GIVEN the default policies, which read every context field they need
        for (Action action : Action.values()) {
            EntityRef resource = switch (action) {
                case invoke_model -> EntityRef.model("claude-sonnet-4-5");
                case use_tool -> EntityRef.tool("bash");
                case use_skill -> EntityRef.skill("pptx");
                case read_unmasked -> EntityRef.dataClass("EMAIL");
                case approve, read_session -> EntityRef.session("s-1");
            };
            Map<String, Object> attributes = resource.type().equals("Session")
                    ? Map.of("owner", EntityRef.user("bob"), "status", "COMPLETED") : Map.of();

            // WHEN a request carries the default context
            Decision decision = ENGINE.decide(new AuthzRequest(EntityRef.user("alice"), Set.of("developers"), action,
                    resource, attributes, Contexts.defaults(action)));

            // THEN no policy fails to evaluate
            assertThat(decision.errors()).as(action.name()).isEmpty();
        }
    }
}
