package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.GatewayError;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.ReplyMasker;
import dev.policygate.core.masking.UnmaskDecider;
import dev.policygate.core.text.PromptNormalizer;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the Messages request parser with raw bytes (any body a caller can send) and with
 * well-formed requests carrying fuzz text. Properties: the only failure is the gateway's typed
 * 400; the prompt given to Cedar is the normalised raw text; and what the analyser detects is
 * what prompt masking hides (every detected value is gone from the masked request's text).
 */
class RequestAnalyzerFuzzTest {
    private static final RequestAnalyzer ANALYZER = new RequestAnalyzer(DetectorSet.builtIns());
    private static final ReplyMasker MASKER = new ReplyMasker(FuzzSupport.REDACT_ALL);

    /** JSON is parsed by Jackson, which is not instrumented: the dictionary gives the fuzzer its words. */
    @FuzzTest
    @DictionaryEntries({"{", "}", "[", "]", ":", ",", "\"", "null", "true", "false", "\\u0000", "\"model\"",
            "\"max_tokens\"", "\"messages\"", "\"role\"", "\"user\"", "\"assistant\"", "\"content\"",
            "\"type\"", "\"text\"", "\"system\"", "\"tools\"", "\"name\"", "\"stream\"", "\"image\"",
            "\"document\"", "\"source\"", "\"base64\"", "\"data\"", "\"tool_use\"", "\"tool_result\"",
            "\"input\"", "\"container\"", "\"skills\"", "\"skill_id\"", "\"mcp_servers\"",
            "\"redacted_thinking\"", "\"claude-sonnet-4-5\"", "1e999", "-1", "9223372036854775808"})
    void analyse_failsOnlyWithATyped400(byte[] body) {
        for (RequestAnalyzer.Operation op : RequestAnalyzer.Operation.values()) {
            AnalysedRequest a;
            try {
                a = ANALYZER.analyse(body, op);
            } catch (GatewayError e) {
                assertEquals(400, e.status(), "only invalid-request errors: " + e.getMessage());
                assertTrue(e.getMessage().length() < 400, "error messages stay short");
                continue;
            }
            checkInvariants(a);
        }
    }

    @FuzzTest
    void analyse_detectsWhatPromptMaskingHides(FuzzedDataProvider data) throws Exception {
        ObjectNode req = FuzzSupport.obj().put("model", "claude-sonnet-4-5").put("max_tokens", 64);
        if (data.consumeBoolean()) {
            req.put("system", FuzzSupport.textWithEntities(data, 4));
        }
        ArrayNode messages = req.putArray("messages");
        int n = data.consumeInt(1, 4);
        for (int i = 0; i < n; i++) {
            ObjectNode m = messages.addObject().put("role", i % 2 == 0 ? "user" : "assistant");
            if (data.consumeBoolean()) {
                m.put("content", FuzzSupport.textWithEntities(data, 6));
            } else {
                ArrayNode blocks = m.putArray("content");
                blocks.addObject().put("type", "text").put("text", FuzzSupport.textWithEntities(data, 4));
                ObjectNode result = blocks.addObject().put("type", "tool_result").put("tool_use_id", "toolu_1");
                result.putArray("content").addObject().put("type", "text")
                        .put("text", FuzzSupport.textWithEntities(data, 3));
                ObjectNode doc = blocks.addObject().put("type", "document").put("title",
                        FuzzSupport.textWithEntities(data, 2));
                doc.putObject("source").put("type", "text").put("media_type", "text/plain")
                        .put("data", FuzzSupport.textWithEntities(data, 3));
                blocks.addObject().put("type", data.consumeString(8)).put("note", FuzzSupport.textWithEntities(data, 3));
            }
        }
        if (data.consumeBoolean()) {
            ObjectNode tool = req.putArray("tools").addObject().put("name", "lookup")
                    .put("description", FuzzSupport.textWithEntities(data, 3));
            tool.putObject("input_schema").put("type", "object").put("description",
                    FuzzSupport.textWithEntities(data, 2));
        }
        byte[] body = Json.mapper().writeValueAsBytes(req);
        AnalysedRequest a;
        try {
            a = ANALYZER.analyse(body, RequestAnalyzer.Operation.MESSAGES);
        } catch (GatewayError e) {
            assertEquals(400, e.status());
            return;
        }
        checkInvariants(a);
        ObjectNode masked = a.json().deepCopy();
        // as the gateway does: entities that run from one string into the next are masked piece by piece
        MASKER.maskRequestMessages(masked, UnmaskDecider.MASK_ALL, !a.acrossParts().isEmpty());
        AnalysedRequest after = ANALYZER.analyse(Json.mapper().writeValueAsBytes(masked),
                RequestAnalyzer.Operation.MESSAGES);
        Visibility.assertNoDetectedValueVisible(a.rawText(), after.rawText(), "masked request");
    }

    private static void checkInvariants(AnalysedRequest a) {
        assertEquals(PromptNormalizer.normalise(a.rawText()), a.normalisedPrompt());
        assertTrue(a.estimatedInputTokens() >= 0, "token estimate is never negative");
        assertTrue(!a.model().isEmpty() && a.model().length() <= 256);
        a.detectionLabels();
        byte[] again = a.json().toString().getBytes(StandardCharsets.UTF_8);
        assertTrue(again.length > 0);
    }
}
