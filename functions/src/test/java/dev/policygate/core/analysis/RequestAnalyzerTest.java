package dev.policygate.core.analysis;

import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.GatewayError;
import dev.policygate.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestAnalyzerTest {
    private final RequestAnalyzer analyzer = new RequestAnalyzer(DetectorSet.builtIns());

    private AnalysedRequest analyse(String json) {
        return analyzer.analyse(json.getBytes(StandardCharsets.UTF_8), RequestAnalyzer.Operation.MESSAGES);
    }

    private static void assertInvalid(Runnable r, String messagePart) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(GatewayError.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.type()).isEqualTo("invalid_request_error");
            assertThat(e.getMessage()).contains(messagePart);
        });
    }

    @Test
    void analyse_extractsModelTextAndDetections_fromAPlainRequest() {
        AnalysedRequest a = analyzer.analyse(Fixtures.event("messages/simple.json"), RequestAnalyzer.Operation.MESSAGES);
        assertThat(a.model()).isEqualTo("claude-sonnet-4-5");
        assertThat(a.maxTokens()).isEqualTo(256);
        assertThat(a.stream()).isFalse();
        assertThat(a.normalisedPrompt()).isEqualTo("hello, my email is jane.doe@example.com");
        assertThat(a.detectionLabels()).containsExactly("pii:EMAIL");
    }

    @Test
    void analyse_readsEveryTextBearingBlock_butNotImageBytes() {
        AnalysedRequest a = analyzer.analyse(Fixtures.event("messages/system-blocks-and-tools.json"),
                RequestAnalyzer.Operation.MESSAGES);
        assertThat(a.stream()).isTrue();
        assertThat(a.tools()).containsExactly("get_weather", "bash", "web_search");
        assertThat(a.rawText()).contains("You are a careful assistant.", "Paris", "The user wants weather.",
                "Sunny, call +44 20 7946 0958", "Invoice for card 4111 1111 1111 1111", "Get the weather for a city")
                .doesNotContain("iVBORw0KGgo");
        assertThat(a.detected()).contains(DataClass.PHONE, DataClass.CREDIT_CARD);
        assertThat(a.estimatedInputTokens()).isGreaterThan(1600);
    }

    @Test
    void analyse_acceptsSystemTurnsInMessages_asClaudeCodeSendsThem_andReadsTheirText() {
        // GIVEN a request shaped like Claude Code's: a system turn between two user turns
        AnalysedRequest a = analyzer.analyse(Fixtures.event("messages/system-turn-in-messages.json"),
                RequestAnalyzer.Operation.MESSAGES);
        // THEN its text is prompt text like any other: detected, and seen by policy
        assertThat(a.detectionLabels()).containsExactly("pii:EMAIL");
        assertThat(a.normalisedPrompt()).contains("working directory").contains("run the tests");
        assertThat(a.tools()).containsExactly("Bash");
    }

    @Test
    void analyse_refusesARoleTheMessagesApiDoesNotHave() {
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"tool\","
                + "\"content\":\"x\"}]}"), "messages.0.role: Input should be 'user', 'assistant' or 'system'");
    }

    @Test
    void analyse_listsSkillsAndMcpServers() {
        AnalysedRequest a = analyzer.analyse(Fixtures.event("messages/skills-and-mcp.json"),
                RequestAnalyzer.Operation.MESSAGES);
        assertThat(a.skills()).containsExactly("xlsx", "skill_01abc");
        assertThat(a.mcpServers()).containsExactly("example-mcp");
    }

    @Test
    void analyse_acceptsCountTokensWithoutMaxTokens() {
        AnalysedRequest a = analyzer.analyse(Fixtures.event("messages/count-tokens.json"),
                RequestAnalyzer.Operation.COUNT_TOKENS);
        assertThat(a.maxTokens()).isZero();
    }

    @Test
    void analyse_countsUnknownBlockTypesAsPromptText_soNothingHidesFromPolicy() {
        AnalysedRequest a = analyse("{\"model\":\"claude-x\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                + "\"content\":[{\"type\":\"future_block\",\"payload\":{\"note\":\"please delete prod\"}}]}]}");
        assertThat(a.normalisedPrompt()).contains("please delete prod");
    }

    @Test
    void analyse_rejectsMalformedAndMistypedInput_withTheFieldNamed() {
        assertInvalid(() -> analyse("{\"model\":"), "not valid JSON");
        assertInvalid(() -> analyse("[]"), "JSON object");
        assertInvalid(() -> analyse("{\"max_tokens\":5,\"messages\":[]}"), "model");
        assertInvalid(() -> analyse("{\"model\":5,\"max_tokens\":5,\"messages\":[]}"), "model");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
                "max_tokens");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":\"5\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
                "max_tokens");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
                "max_tokens");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}"), "messages");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}"),
                "messages.0.role");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
                "stream");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"system\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
                "system");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"tools\":[{\"description\":\"x\"}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
                "tools.0.name");
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} trailing"),
                "not valid JSON");
    }

    @Test
    void analyse_rejectsDuplicateKeys_soPolicyAndUpstreamReadTheSameBody() {
        assertInvalid(() -> analyse("{\"model\":\"claude-a\",\"model\":\"claude-b\",\"max_tokens\":5,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), "not valid JSON");
    }

    @Test
    void analyse_rejectsInvalidUtf8_ratherThanGuessing() {
        byte[] body = "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"xx\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        body[body.length - 6] = (byte) 0xC3;
        body[body.length - 5] = (byte) 0x28;
        assertInvalid(() -> analyzer.analyse(body, RequestAnalyzer.Operation.MESSAGES), "UTF-8");
    }

    @Test
    void analyse_rejectsDeeplyNestedJson_withoutOverflowingTheStack() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        assertInvalid(() -> analyse("{\"model\":\"m\",\"max_tokens\":5,\"metadata\":" + deep
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), "not valid JSON");
    }
}
