package dev.policygate.hardening;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.adapters.upstream.HttpClaudeUpstream;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.auth.PrincipalResolver;
import dev.policygate.core.gateway.GatewayConfig;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Upstream faults at the port, over a real loopback socket and the real HTTP adapter: 429, 500,
 * 529, a refused connection, silence before the headers, a reply trickled byte by byte, a reset
 * in the middle of a stream, and malformed SSE. Each asserts the client's Anthropic-shaped error,
 * that the request reached the upstream exactly once (the gateway never retries a forward), and
 * the session recorded with the failure.
 */
class FaultInjectionTest {
    private static final PrincipalResolver DEV = headers -> new Principal("dev", Set.of("developers"),
            "dev@example.com", "policygate:key", "key_1", Principal.Method.API_KEY);

    private LoopbackClaude claude;
    private HardeningGateways g;

    @BeforeEach
    void start() throws IOException {
        claude = new LoopbackClaude();
        g = gateway(URI.create(claude.baseUrl()), Duration.ofSeconds(2), Duration.ofMillis(800));
    }

    private HardeningGateways gateway(URI upstream, Duration headerTimeout, Duration idle) {
        return new HardeningGateways(DEV, GatewayConfig.defaults("http://127.0.0.1:1"),
                new HttpClaudeUpstream(upstream, () -> LoopbackClaude.UPSTREAM_KEY, Duration.ofSeconds(1), headerTimeout,
                        idle, client()), Duration.ofMinutes(5));
    }

    /** The HTTP client under test: the JDK's (Lambda's); {@link ApacheFaultInjectionTest} runs the same faults on the local default. */
    HttpClaudeUpstream.Client client() {
        return HttpClaudeUpstream.Client.JDK;
    }

    @AfterEach
    void stop() throws IOException {
        g.close();
        claude.close();
    }

    private GatewayResponse send(boolean stream) {
        return g.post(Map.of(), HardeningGateways.messages(stream ? "\"stream\":true," : "", "hello"));
    }

    private void assertError(GatewayResponse r, int status, String type) {
        assertThat(r.status()).isEqualTo(status);
        JsonNode body = HardeningGateways.json(r);
        assertThat(body.path("type").asText()).isEqualTo("error");
        assertThat(body.path("error").path("type").asText()).isEqualTo(type);
        assertThat(body.path("request_id").asText()).isEqualTo(r.headers().get("x-policygate-session-id"));
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain("internal detail")
                .doesNotContain(LoopbackClaude.UPSTREAM_KEY);
        assertRecordedFailed(r, status);
    }

    private void assertRecordedFailed(GatewayResponse r, int status) {
        SessionSummary s = g.sessionOf(r);
        assertThat(s.status()).isEqualTo(SessionStatus.FAILED);
        assertThat(s.httpStatus()).isEqualTo(status);
        assertThat(g.recordingOf(r).path("error").path("message").asText()).isNotEmpty();
        assertThat(g.recordingOf(r).toString()).doesNotContain(LoopbackClaude.UPSTREAM_KEY);
        assertThat(claude.requests.get()).as("forwarded exactly once, never retried").isEqualTo(1);
    }

    @Test
    void upstream429_isA429WithRetryAfter_forwardedOnce() {
        claude.script = LoopbackClaude.status(429, "rate_limit_error", "retry-after: 7\r\n");
        GatewayResponse r = send(false);
        assertThat(r.status()).isEqualTo(429);
        assertThat(HardeningGateways.json(r).path("error").path("type").asText()).isEqualTo("rate_limit_error");
        assertThat(r.headers().get("retry-after")).isEqualTo("7");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain(LoopbackClaude.UPSTREAM_KEY);
        assertRecordedFailed(r, 429);
    }

    @Test
    void upstream500_isA502_withoutTheUpstreamDetail() {
        claude.script = LoopbackClaude.status(500, "api_error", "");
        assertError(send(false), 502, "api_error");
    }

    @Test
    void upstream529_isA529Overloaded() {
        claude.script = LoopbackClaude.status(529, "overloaded_error", "");
        assertError(send(true), 529, "overloaded_error");
    }

    @Test
    void refusedConnection_isA502_andNothingWasForwarded() throws IOException {
        int freePort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            freePort = s.getLocalPort();
        }
        g.close();
        g = gateway(URI.create("http://127.0.0.1:" + freePort), Duration.ofSeconds(2), Duration.ofMillis(800));
        GatewayResponse r = send(false);
        assertThat(r.status()).isEqualTo(502);
        assertThat(g.sessionOf(r).status()).isEqualTo(SessionStatus.FAILED);
    }

    @Test
    void silenceBeforeTheHeaders_isA504_afterTheTimeout_forwardedOnce() {
        claude.script = LoopbackClaude.silent(4_000);
        long t0 = System.nanoTime();
        GatewayResponse r = send(false);
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(1_500L, 3_900L);
        assertError(r, 504, "api_error");
    }

    @Test
    void slowLoris_aReplyTrickledWithinTheIdleLimit_isCutAtTheDeadline_asA504() {
        // one byte every 300 ms never trips the 800 ms idle limit; the request's deadline does
        claude.script = LoopbackClaude.trickle("application/json", LoopbackClaude.MESSAGE, 300);
        long t0 = System.nanoTime();
        GatewayResponse r = g.gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(), Map.of(),
                HardeningGateways.messages("", "hello").getBytes(StandardCharsets.UTF_8), false, "127.0.0.1"),
                Instant.now().plusSeconds(2));
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000L);
        assertError(r, 504, "api_error");
    }

    @Test
    void stalledBody_isCutAtTheIdleLimit_asA504() {
        claude.script = (s, out) -> {
            LoopbackClaude.head(out, 200, "application/json", "content-length: 500\r\n");
            out.write("{\"id\":".getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(4_000);
        };
        assertError(send(false), 504, "api_error");
    }

    private static String sse(SseEvent... events) {
        StringBuilder b = new StringBuilder();
        for (SseEvent e : events) {
            b.append(e.encode());
        }
        return b.toString();
    }

    @Test
    void resetMidStream_endsWithAnSseErrorEvent_afterOnlyMaskedText_andIsRecordedAsFailed() {
        claude.script = LoopbackClaude.resetAfter(sse(SseFixtures.messageStart(), SseFixtures.textStart(),
                SseFixtures.textDelta("mail eve@exa"), SseFixtures.textDelta("mple.com now and ")));
        GatewayResponse r = send(true);
        assertThat(r.status()).isEqualTo(200);
        String out = FaultyUpstream.drain(r);
        assertThat(out).contains("event: error").contains("[EMAIL]").doesNotContain("eve@").doesNotContain("exa");
        assertThat(out).doesNotContain("message_stop");
        assertRecordedFailed(r, 200);
        assertThat(g.recordingOf(r).path("error").path("message").asText()).contains("upstream stream failed");
    }

    @Test
    void malformedSse_aDataLineThatIsNotJson_stopsTheStream_andNothingUncheckedIsSent() {
        claude.script = LoopbackClaude.stream(sse(SseFixtures.messageStart(), SseFixtures.textStart())
                + "event: content_block_delta\ndata: {\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"eve@"
                + "example.com\"\n\n" + sse(SseFixtures.stop(), SseFixtures.messageDelta(), SseFixtures.messageStop()));
        GatewayResponse r = send(true);
        String out = FaultyUpstream.drain(r);
        assertThat(out).contains("event: error").doesNotContain("eve@example.com").doesNotContain("message_stop");
        assertRecordedFailed(r, 200);
    }

    @Test
    void malformedSse_aStreamThatEndsInsideAnEvent_isRecordedAsFailed() {
        claude.script = LoopbackClaude.stream(sse(SseFixtures.messageStart(), SseFixtures.textStart())
                + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,");
        GatewayResponse r = send(true);
        assertThat(FaultyUpstream.drain(r)).contains("event: error");
        assertRecordedFailed(r, 200);
    }

    @Test
    void healthyUpstream_control_isA200_withTheReplyMasked() {
        GatewayResponse r = send(false);
        assertThat(r.status()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("[EMAIL]").doesNotContain("eve@example.com");
        assertThat(g.sessionOf(r).status()).isEqualTo(SessionStatus.COMPLETED);
        assertThat(claude.requests.get()).isEqualTo(1);
    }
}
