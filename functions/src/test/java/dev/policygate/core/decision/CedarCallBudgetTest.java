package dev.policygate.core.decision;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.RequestDecider;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.ReplyMasker;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How many policy evaluations (Cedar calls, or decisions of compiled policies) one Messages request costs with the repository's policies: one for
 * invoke_model, at most one per tool, MCP server and skill, one read_unmasked per data class
 * actually detected (none for classes absent), and none at all for a repeated question whose
 * policies read no context (the memo). Counted with {@link CedarPolicyEngine#evaluations()}. The
 * repository's policies all compile, so once the source address is known none of them reaches Cedar.
 */
class CedarCallBudgetTest {
    private static final String USER = "dev";
    private static final Set<String> GROUPS = Set.of("developers");

    private final CedarPolicyEngine engine = CedarPolicyEngine.load(RepoPaths.policiesDir());
    private final DetectorSet detectors = DetectorSet.builtIns();
    private final RequestAnalyzer analyzer = new RequestAnalyzer(detectors);

    private AnalysedRequest analyse(String prompt, String... tools) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("model", "claude-sonnet-4-5").put("max_tokens", 256);
        var toolArray = body.putArray("tools");
        for (String tool : tools) {
            toolArray.addObject().put("name", tool).put("description", "d").putObject("input_schema")
                    .put("type", "object");
        }
        body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        return analyzer.analyse(body.toString().getBytes(StandardCharsets.UTF_8), RequestAnalyzer.Operation.MESSAGES);
    }

    @Test
    void decide_callsCedarOncePerItem_andTheMemoAnswersRepeatedToolQuestions() {
        // GIVEN a request with three tools
        AnalysedRequest request = analyse("summarise the report", "get_weather", "search_docs", "create_ticket");
        RequestDecider decider = new RequestDecider(engine);

        // WHEN it is decided
        long before = engine.evaluations();
        Decision first = decider.decide(USER, GROUPS, request, request.detectionLabels(), "127.0.0.1", "messages",
                false, null);

        // THEN invoke_model and each tool cost at most one call (two only for an approvable invoke_model)
        assertThat(first.outcome()).isEqualTo(Outcome.ALLOW);
        assertThat(engine.evaluations() - before).isLessThanOrEqualTo(1 + 3);

        // AND WHEN the same principal asks again, once the memo is warm (it keys a context with a source
        // address only after it is known to parse), only invoke_model, which reads the prompt, is evaluated
        decider.decide(USER, GROUPS, request, request.detectionLabels(), "127.0.0.1", "messages", false, null);
        long again = engine.evaluations();
        long cedarBefore = engine.cedarCalls();
        decider.decide(USER, GROUPS, request, request.detectionLabels(), "127.0.0.1", "messages", false, null);
        assertThat(engine.evaluations() - again).as("use_tool reads no context here, so it is remembered")
                .isEqualTo(engine.contextReadFor(Action.use_tool, EntityRef.tool("get_weather")) ? 4 : 1);
        // AND every evaluation ran in Java: the repository's policies all compile
        assertThat(engine.cedarCalls() - cedarBefore).isZero();
    }

    @Test
    void maskMessage_asksReadUnmaskedOnlyForDetectedClasses_onceEach() {
        // GIVEN a reply with two e-mail addresses and one phone number, and nothing else sensitive
        ObjectNode reply = Json.mapper().createObjectNode();
        reply.put("id", "msg_1").put("type", "message").put("role", "assistant").put("model", "claude-sonnet-4-5");
        reply.putArray("content").addObject().put("type", "text")
                .put("text", "write to jane.doe@example.com or joe@example.org, or call +1 415 555 0132");
        ReplyMasker masker = new ReplyMasker(new TextMasker(detectors, MaskingConfig.defaults(new byte[32])));
        Map<DataClass, Integer> asked = new HashMap<>();
        Map<DataClass, Boolean> perRequest = new HashMap<>();
        List<DataClass> cedarAsked = new ArrayList<>();
        // The gateway's per-request memo, as in Gateway: one Cedar question per class at most.
        UnmaskDecider decider = c -> {
            asked.merge(c, 1, Integer::sum);
            return perRequest.computeIfAbsent(c, k -> {
                cedarAsked.add(k);
                return engine.decide(new AuthzRequest(EntityRef.user(USER), GROUPS, Action.read_unmasked,
                        EntityRef.dataClass(k.name()), null, Contexts.readUnmasked("reply"))).allowed();
            });
        };

        // WHEN the reply is masked
        long before = engine.evaluations();
        masker.maskMessage(reply, decider);

        // THEN only the two detected classes were asked about, and Cedar was called at most once for each
        assertThat(asked.keySet()).containsExactlyInAnyOrder(DataClass.EMAIL, DataClass.PHONE);
        assertThat(cedarAsked).hasSize(2);
        assertThat(engine.evaluations() - before).isLessThanOrEqualTo(2);

        // AND a second request's masking of the same classes costs no Cedar call (read_unmasked is memoised)
        perRequest.clear();
        long second = engine.evaluations();
        masker.maskMessage(reply.deepCopy(), decider);
        assertThat(engine.evaluations() - second).isZero();
    }
}
