package dev.policygate.core.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.approval.ApprovalLinks;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.ApprovalStore;
import dev.policygate.core.approval.ApproverDirectory;
import dev.policygate.core.auth.AuthenticationException;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.Decision;
import dev.policygate.core.decision.Outcome;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamException;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;
import dev.policygate.testing.Fixtures;
import dev.policygate.testing.InMemorySessionStore;
import dev.policygate.testing.TestApprovals;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway use case with the real Cedar engine and default policies, an in-memory session
 * store and a scripted upstream. Failures are injected through the ports.
 */
class GatewayTest {
    private static final CedarPolicyEngine POLICIES = CedarPolicyEngine.load(Fixtures.root().resolve("cedar-policies"));

    /** Returns a scripted reply and records what was sent. */
    static final class ScriptedUpstream implements ClaudeUpstream {
        final List<UpstreamRequest> sent = new CopyOnWriteArrayList<>();
        volatile int status = 200;
        volatile String body = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\","
                + "\"content\":[{\"type\":\"text\",\"text\":\"reach me at eve@example.com\"}],"
                + "\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}";

        @Override
        public UpstreamResponse send(UpstreamRequest request) throws UpstreamException {
            sent.add(request);
            return new UpstreamResponse(status, Map.of("content-type", "application/json"),
                    new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public String describe() {
            return "scripted";
        }
    }

    final InMemorySessionStore sessions = new InMemorySessionStore();
    final ScriptedUpstream upstream = new ScriptedUpstream();
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    Gateway gateway;

    @BeforeEach
    void setUp() {
        Map<String, Principal> users = Map.of(
                "dev-key", new Principal("dev", Set.of("developers"), "dev@example.com", "policygate:key", "key_1",
                        Principal.Method.API_KEY),
                "reader-key", new Principal("rita", Set.of("developers", "pii-readers"), null, "policygate:key",
                        "key_2", Principal.Method.API_KEY),
                "outsider-key", new Principal("olga", Set.of("marketing"), null, "policygate:key", "key_3",
                        Principal.Method.API_KEY));
        ApprovalStore store = TestApprovals.memoryStore();
        ApproverDirectory directory = TestApprovals.directory(Map.of("approvers", Set.of("alice@example.com")));
        ApprovalService approvalService = new ApprovalService(store, n -> { }, directory, new ApprovalLinks(new byte[32]),
                POLICIES, Clock.systemUTC(), Duration.ofMinutes(5), "http://127.0.0.1:1", scheduler);
        DetectorSet detectors = DetectorSet.builtIns();
        gateway = new Gateway(GatewayConfig.defaults("http://127.0.0.1:1"), headers -> {
            if ("down-key".equals(headers.get("x-api-key"))) {
                throw new AuthenticationException(AuthenticationException.Reason.UNAVAILABLE, "keys unavailable");
            }
            Principal p = users.get(headers.get("x-api-key"));
            if (p == null) {
                throw new AuthenticationException(AuthenticationException.Reason.UNKNOWN_KEY, "invalid x-api-key");
            }
            return p;
        }, POLICIES, new RequestAnalyzer(detectors), new TextMasker(detectors, MaskingConfig.defaults(new byte[32])),
                upstream, sessions, approvalService, Clock.systemUTC(), Executors.newSingleThreadExecutor());
    }

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
    }

    private GatewayResponse post(String key, String body) {
        return gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(), Map.of("x-api-key", key),
                body.getBytes(StandardCharsets.UTF_8), false, "127.0.0.1"));
    }

    private static String messages(String extra, String prompt) {
        return "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":64," + extra + "\"messages\":[{\"role\":\"user\","
                + "\"content\":" + Json.mapper().valueToTree(prompt) + "}]}";
    }

    private static JsonNode json(GatewayResponse r) throws IOException {
        return Json.mapper().readTree(r.body());
    }

    private SessionSummary sessionOf(GatewayResponse r) {
        return sessions.index.get(r.headers().get("x-policygate-session-id"));
    }

    @Test
    void allow_forwardsTheCallersBytesUnchanged_whenNothingMustBeMaskedInThePrompt() {
        String body = messages("", "hello there");
        GatewayResponse r = post("dev-key", body);
        assertThat(r.status()).isEqualTo(200);
        assertThat(new String(upstream.sent.get(0).body(), StandardCharsets.UTF_8)).isEqualTo(body);
        assertThat(sessionOf(r).status()).isEqualTo(SessionStatus.COMPLETED);
    }

    @Test
    void replyMasking_followsReadUnmasked_perReader() throws IOException {
        assertThat(json(post("dev-key", messages("", "hi"))).path("content").get(0).path("text").asText())
                .isEqualTo("reach me at [EMAIL]");
        assertThat(json(post("reader-key", messages("", "hi"))).path("content").get(0).path("text").asText())
                .isEqualTo("reach me at eve@example.com");
    }

    @Test
    void recording_isFullyMasked_evenWhenTheReaderMaySeeUnmaskedData() {
        GatewayResponse r = post("reader-key", messages("", "hi"));
        assertThat(sessions.recordings.get(r.headers().get("x-policygate-session-id")).toString())
                .doesNotContain("eve@example.com").contains("[EMAIL]");
    }

    @Test
    void deny_returns403WithThePolicyIdAndMessage_andForwardsNothing() throws IOException {
        GatewayResponse r = post("dev-key", messages("", "key -----BEGIN PRIVATE KEY-----\n"
                + "A".repeat(80) + "\n-----END PRIVATE KEY-----"));
        assertThat(r.status()).isEqualTo(403);
        JsonNode err = json(r).path("error");
        assertThat(err.path("type").asText()).isEqualTo("permission_error");
        assertThat(err.path("policy_ids").toString()).contains("no-private-keys");
        assertThat(upstream.sent).isEmpty();
        assertThat(sessionOf(r).status()).isEqualTo(SessionStatus.DENIED);
    }

    @Test
    void defaultDeny_forAPrincipalNoPolicyPermits() throws IOException {
        GatewayResponse r = post("outsider-key", messages("", "hello"));
        assertThat(r.status()).isEqualTo(403);
        assertThat(json(r).path("error").path("message").asText()).contains("default deny");
    }

    @Test
    void approvableToolDenial_holdsTheWholeRequestForApproval() throws IOException {
        GatewayResponse r = post("dev-key", messages("\"tools\":[{\"name\":\"bash\",\"type\":\"bash_20250124\"}],",
                "list files"));
        assertThat(r.status()).isEqualTo(202);
        JsonNode body = json(r);
        assertThat(body.path("type").asText()).isEqualTo("approval_pending");
        assertThat(body.path("policy_ids").toString()).contains("bash-tool-needs-approval");
        assertThat(upstream.sent).isEmpty();
        assertThat(sessionOf(r).status()).isEqualTo(SessionStatus.PENDING_APPROVAL);
    }

    @Test
    void secretsInToolDefinitions_areMaskedBeforeForwarding_andMcpTokensAreNeverRecorded() {
        String key = "AKIA" + "IOSFODNN7EXAMPLE";
        GatewayResponse r = post("dev-key", messages("\"tools\":[{\"name\":\"deploy\",\"description\":\"uses " + key
                + "\",\"input_schema\":{\"type\":\"object\",\"description\":\"also " + key + "\"}}],"
                + "\"mcp_servers\":[{\"type\":\"url\",\"url\":\"https://mcp.example.com\",\"name\":\"m\","
                + "\"authorization_token\":\"tok-secret-123\"}],", "hello"));
        assertThat(r.status()).isEqualTo(200);
        String forwarded = new String(upstream.sent.get(0).body(), StandardCharsets.UTF_8);
        assertThat(forwarded).doesNotContain(key).contains("[AWS_ACCESS_KEY]");
        String recorded = sessions.recordings.get(r.headers().get("x-policygate-session-id")).toString();
        assertThat(recorded).doesNotContain(key).doesNotContain("tok-secret-123");
    }

    @Test
    void approval_isRefused_whenTheRequesterHasNoEmailToCheckAgainstTheApprover() throws IOException {
        GatewayResponse r = post("reader-key", messages("\"tools\":[{\"name\":\"bash\",\"type\":\"bash_20250124\"}],",
                "list files"));
        assertThat(r.status()).isEqualTo(403);
        assertThat(json(r).path("error").path("message").asText()).contains("no email");
        assertThat(upstream.sent).isEmpty();
    }

    @Test
    void malformedAnthropicHeaders_areA400_notForwarded() {
        GatewayResponse r = gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(),
                Map.of("x-api-key", "dev-key", "anthropic-beta", "tools-2024\r\nx-evil: 1"),
                messages("", "hi").getBytes(StandardCharsets.UTF_8), false, "127.0.0.1"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(upstream.sent).isEmpty();
    }

    @Test
    void keyStoreOutage_isA503_notTheCallersAuthenticationError() throws IOException {
        GatewayResponse r = post("down-key", messages("", "hello"));
        assertThat(r.status()).isEqualTo(503);
        assertThat(json(r).path("error").path("type").asText()).isEqualTo("api_error");
        assertThat(sessionOf(r).status()).isEqualTo(SessionStatus.FAILED);
    }

    @Test
    void sessionListing_rejectsTimesOutsideTheRecordedEra_andEmptyRanges() {
        for (String q : List.of("+10000-01-01T00:00:00Z", "1969-12-31T00:00:00Z")) {
            GatewayResponse r = gateway.handle(new GatewayRequest("GET", "/v1/sessions", Map.of("from", q),
                    Map.of("x-api-key", "dev-key"), null, false, "127.0.0.1"));
            assertThat(r.status()).as(q).isEqualTo(400);
        }
        GatewayResponse empty = gateway.handle(new GatewayRequest("GET", "/v1/sessions",
                Map.of("from", "2026-01-02T00:00:00Z", "to", "2026-01-01T00:00:00Z"), Map.of("x-api-key", "dev-key"),
                null, false, "127.0.0.1"));
        assertThat(empty.status()).isEqualTo(400);
    }

    @Test
    void combine_anyDenyWins_overApproval_andAllow() {
        Decision allow = new Decision(Outcome.ALLOW, List.of("p"), List.of(), Set.of(), List.of());
        Decision approval = new Decision(Outcome.APPROVAL, List.of("a"), List.of("needs ok"), Set.of("g"), List.of());
        Decision deny = new Decision(Outcome.DENY, List.of("d"), List.of("no"), Set.of(), List.of());
        assertThat(RequestDecider.combine(List.of(allow, approval)).outcome()).isEqualTo(Outcome.APPROVAL);
        assertThat(RequestDecider.combine(List.of(allow, approval)).approvalGroups()).containsExactly("g");
        Decision d = RequestDecider.combine(List.of(approval, deny, allow));
        assertThat(d.outcome()).isEqualTo(Outcome.DENY);
        assertThat(d.policyIds()).containsExactly("d");
        assertThat(d.approvalGroups()).isEmpty();
    }

    @Test
    void writeAheadFailure_failsClosed_withoutForwarding() throws IOException {
        sessions.failBegin = true;
        GatewayResponse r = post("dev-key", messages("", "hello"));
        assertThat(r.status()).isEqualTo(503);
        assertThat(json(r).path("error").path("type").asText()).isEqualTo("api_error");
        assertThat(upstream.sent).isEmpty();
    }

    @Test
    void writeAheadFailure_withFailOpen_forwards_countsAMetric_andStillRecordsTheSession() throws IOException {
        java.util.List<String> counted = new java.util.concurrent.CopyOnWriteArrayList<>();
        Gateway failOpen = new Gateway(new GatewayConfig(6 * 1024 * 1024, 32 * 1024 * 1024, 1024 * 1024,
                GatewayConfig.DEFAULT_MODEL_PATTERN, "http://127.0.0.1:1", true, Duration.ofSeconds(1)),
                headers -> new Principal("dev", Set.of("developers"), "dev@example.com", "policygate:key", "k",
                        Principal.Method.API_KEY), POLICIES, new RequestAnalyzer(DetectorSet.builtIns()),
                new TextMasker(DetectorSet.builtIns(), MaskingConfig.defaults(new byte[32])), upstream, sessions, null,
                Clock.systemUTC(), Executors.newSingleThreadExecutor()).withMetrics(counted::add);
        sessions.failBegin = true;
        GatewayResponse r = failOpen.handle(new GatewayRequest("POST", "/v1/messages", Map.of(), Map.of(),
                messages("", "hello").getBytes(StandardCharsets.UTF_8), false, "127.0.0.1"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(upstream.sent).hasSize(1);
        assertThat(counted).containsExactly(GatewayMetrics.DECISION_PREFIX + "Allow", GatewayMetrics.WRITE_AHEAD_FAIL_OPEN);
        assertThat(sessionOf(r).status()).isEqualTo(SessionStatus.COMPLETED);
    }

    @Test
    void writeAheadCollision_isRefused_andNothingIsForwardedTwice() throws IOException {
        sessions.collideBegin = true;
        GatewayResponse r = post("dev-key", messages("", "hello"));
        assertThat(r.status()).isEqualTo(503);
        assertThat(upstream.sent).isEmpty();
    }

    @Test
    void unmaskableReply_isNeverReturned() throws IOException {
        upstream.body = "[\"not\", \"a message\"]";
        GatewayResponse r = post("dev-key", messages("", "hello"));
        assertThat(r.status()).isEqualTo(502);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain("not\", \"a message");
        assertThat(sessionOf(r).status()).isEqualTo(SessionStatus.FAILED);
    }

    @Test
    void upstream5xx_isA502_andUpstream4xxPassesThrough() throws IOException {
        upstream.status = 500;
        upstream.body = "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"internal detail\"}}";
        GatewayResponse r = post("dev-key", messages("", "hello"));
        assertThat(r.status()).isEqualTo(502);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain("internal detail");
        upstream.status = 400;
        upstream.body = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad temperature\"}}";
        GatewayResponse bad = post("dev-key", messages("", "hello"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(json(bad).path("error").path("message").asText()).isEqualTo("bad temperature");
    }

    @Test
    void everyResponse_carriesASessionId_andEveryRequestIsRecorded() {
        List<GatewayResponse> responses = new ArrayList<>();
        responses.add(post("dev-key", messages("", "hello")));
        responses.add(post("nobody", messages("", "hello")));
        responses.add(post("dev-key", "{"));
        responses.add(gateway.handle(new GatewayRequest("GET", "/nope", Map.of(), Map.of(), null, false, null)));
        responses.add(gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(),
                Map.of("x-api-key", "dev-key"), new byte[0], true, "127.0.0.1")));
        assertThat(responses).extracting(GatewayResponse::status).containsExactly(200, 401, 400, 404, 413);
        for (GatewayResponse r : responses) {
            assertThat(sessionOf(r)).isNotNull();
            assertThat(sessionOf(r).status().terminal()).isTrue();
        }
    }
}
