package dev.policygate.hardening;

import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.auth.PrincipalResolver;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.GatewayConfig;
import dev.policygate.core.gateway.GatewayError;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.masking.SseFormatException;
import dev.policygate.core.masking.SseParser;
import dev.policygate.core.masking.StreamingReplyMasker;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.local.LocalServer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every documented limit, at its boundary: the largest value passes and one more is refused the
 * documented way. Request size, messages, tools, SSE event size, the streaming hold-back and the
 * approval pending time.
 */
class LimitsTest {
    private static final PrincipalResolver DEV = headers -> new Principal("dev", Set.of("developers"),
            "dev@example.com", "policygate:key", "key_1", Principal.Method.API_KEY);
    private static final RequestAnalyzer DEFAULT = new RequestAnalyzer(DetectorSet.builtIns());

    /** A Messages body of exactly {@code size} bytes. */
    private static byte[] bodyOfSize(int size) {
        String empty = HardeningGateways.messages("", "");
        String body = HardeningGateways.messages("", "a".repeat(size - empty.length()));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        assertThat(bytes).hasSize(size);
        return bytes;
    }

    @Test
    void requestSize_atTheLimitPasses_oneByteMoreIsA413_recordedAsInvalid() throws Exception {
        int limit = 4096;
        try (HardeningGateways g = new HardeningGateways(DEV, GatewayConfig.defaults("http://127.0.0.1:1")
                .withMaxBodyBytes(limit), null, Duration.ofMinutes(5))) {
            LocalServer server = new LocalServer(g::handle, "127.0.0.1", 0, 2, limit);
            server.start();
            try {
                HttpClient http = HttpClient.newHttpClient();
                URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/messages");
                HttpResponse<String> ok = http.send(HttpRequest.newBuilder(uri).header("x-api-key", "k")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(bodyOfSize(limit))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(ok.statusCode()).isEqualTo(200);
                HttpResponse<String> big = http.send(HttpRequest.newBuilder(uri).header("x-api-key", "k")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(bodyOfSize(limit + 1))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(big.statusCode()).isEqualTo(413);
                assertThat(Json.mapper().readTree(big.body()).path("error").path("type").asText())
                        .isEqualTo("request_too_large");
                String id = big.headers().firstValue("x-policygate-session-id").orElseThrow();
                assertThat(g.sessions.index.get(id).status()).isEqualTo(SessionStatus.INVALID);
                assertThat(g.counting.sent).hasSize(1);
            } finally {
                server.close();
            }
        }
    }

    private static String withMessages(int n) {
        StringBuilder b = new StringBuilder("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":8,\"messages\":[");
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append("{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant")
                    .append("\",\"content\":\"m\"}");
        }
        return b.append("]}").toString();
    }

    private static String withTools(int n) {
        StringBuilder b = new StringBuilder("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":8,\"tools\":[");
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append("{\"name\":\"t").append(i).append("\",\"input_schema\":{}}");
        }
        return b.append("],\"messages\":[{\"role\":\"user\",\"content\":\"m\"}]}").toString();
    }

    private static void analyse(RequestAnalyzer a, String body) {
        a.analyse(body.getBytes(StandardCharsets.UTF_8), RequestAnalyzer.Operation.MESSAGES);
    }

    @Test
    void messagesAndTools_atTheDefaultLimitsPass_oneMoreIsA400NamingTheField() {
        analyse(DEFAULT, withMessages(100_000));
        assertThatThrownBy(() -> analyse(DEFAULT, withMessages(100_001))).isInstanceOf(GatewayError.class)
                .hasMessageContaining("messages").extracting(e -> ((GatewayError) e).status()).isEqualTo(400);
        analyse(DEFAULT, withTools(512));
        assertThatThrownBy(() -> analyse(DEFAULT, withTools(513))).isInstanceOf(GatewayError.class)
                .hasMessageContaining("tools").extracting(e -> ((GatewayError) e).status()).isEqualTo(400);
    }

    @Test
    void messagesAndTools_limitsAreConfigurable_andValidated() {
        RequestAnalyzer small = new RequestAnalyzer(DetectorSet.builtIns(), 3, 2);
        analyse(small, withMessages(3));
        assertThatThrownBy(() -> analyse(small, withMessages(4))).hasMessageContaining("between 1 and 3 messages");
        analyse(small, withTools(2));
        assertThatThrownBy(() -> analyse(small, withTools(3))).hasMessageContaining("at most 2 tools");
        assertThatThrownBy(() -> new RequestAnalyzer(DetectorSet.builtIns(), 0, 2))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RequestAnalyzer(DetectorSet.builtIns(), 3, 513))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sseEventSize_atTheLimitParses_oneByteMoreFails() throws IOException {
        int limit = 1024;
        // "data: " + payload + "\n" + "\n": every byte of the event counts, terminators included
        String atLimit = "data: " + "x".repeat(limit - 8) + "\n\n";
        assertThat(new SseParser(new ByteArrayInputStream(atLimit.getBytes(StandardCharsets.UTF_8)), limit).next()
                .data()).hasSize(limit - 8);
        String over = "data: " + "x".repeat(limit - 7) + "\n\n";
        assertThatThrownBy(() -> new SseParser(new ByteArrayInputStream(over.getBytes(StandardCharsets.UTF_8)), limit)
                .next()).isInstanceOf(SseFormatException.class).hasMessageContaining("exceeds " + limit);
    }

    @Test
    void sseEventSize_overTheGatewayLimit_endsTheStreamWithAnErrorEvent_andAFailedSession() throws IOException {
        String big = "x".repeat(3000);
        FaultyUpstream upstream = FaultyUpstream.streaming(List.of(
                SseFixtures.messageStart(), SseFixtures.textStart(), SseFixtures.textDelta(big),
                SseFixtures.stop(), SseFixtures.messageDelta(), SseFixtures.messageStop()));
        GatewayConfig config = new GatewayConfig(6 * 1024 * 1024, 32 * 1024 * 1024, 2048,
                GatewayConfig.DEFAULT_MODEL_PATTERN, "http://127.0.0.1:1", false, Duration.ofSeconds(1));
        try (HardeningGateways g = new HardeningGateways(DEV, config, upstream, Duration.ofMinutes(5))) {
            GatewayResponse r = g.post(Map.of(), HardeningGateways.messages("\"stream\":true,", "hi"));
            String sse = FaultyUpstream.drain(r);
            assertThat(sse).contains("event: error").doesNotContain(big);
            assertThat(g.sessionOf(r).status()).isEqualTo(SessionStatus.FAILED);
        }
    }

    @Test
    void holdBack_aTokenAtTheLimitIsHeldWhole_oneCharacterMoreStartsToFlow() {
        TextMasker masker = new TextMasker(DetectorSet.builtIns(), MaskingConfig.defaults(new byte[32]));
        int limit = 512;
        assertThat(emittedBeforeStop(masker, limit, "t".repeat(limit))).isEqualTo("hello ");
        assertThat(emittedBeforeStop(masker, limit, "t".repeat(limit + 1))).startsWith("hello t");
        assertThatThrownBy(() -> new StreamingReplyMasker(masker, UnmaskDecider.MASK_ALL, e -> { }, 16, 1024))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** The text the client has before content_block_stop, for "hello " + token sent in 16-char deltas. */
    private static String emittedBeforeStop(TextMasker masker, int limit, String token) {
        List<SseEvent> out = new ArrayList<>();
        StreamingReplyMasker m = new StreamingReplyMasker(masker, UnmaskDecider.MASK_ALL, out::add, limit, 64 * 1024);
        m.onEvent(SseFixtures.messageStart());
        m.onEvent(SseFixtures.textStart());
        String text = "hello " + token;
        for (int i = 0; i < text.length(); i += 16) {
            m.onEvent(SseFixtures.textDelta(text.substring(i, Math.min(text.length(), i + 16))));
        }
        return SseFixtures.text(out);
    }

    @Test
    void approvalPendingTime_holdsUntilTheTimeout_thenTheSessionExpires() throws Exception {
        Duration timeout = Duration.ofMillis(600);
        try (HardeningGateways g = new HardeningGateways(DEV, GatewayConfig.defaults("http://127.0.0.1:1"), null,
                timeout)) {
            long t0 = System.nanoTime();
            GatewayResponse r = g.post(Map.of(), HardeningGateways.messages(
                    "\"tools\":[{\"name\":\"bash\",\"type\":\"bash_20250124\"}],", "list files"));
            assertThat(r.status()).isEqualTo(202);
            assertThat(g.sessionOf(r).status()).isEqualTo(SessionStatus.PENDING_APPROVAL);
            SessionStatus status = g.sessionOf(r).status();
            while (status == SessionStatus.PENDING_APPROVAL && System.nanoTime() - t0 < 10_000_000_000L) {
                Thread.sleep(20);
                status = g.sessionOf(r).status();
            }
            long waited = (System.nanoTime() - t0) / 1_000_000;
            assertThat(status).isEqualTo(SessionStatus.EXPIRED);
            assertThat(waited).isGreaterThanOrEqualTo(timeout.toMillis() - 50);
            assertThat(g.counting.sent).isEmpty();
        }
    }
}
