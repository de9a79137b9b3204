package dev.policygate.hardening;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.approval.ApprovalLinks;
import dev.policygate.core.approval.ApprovalNotice;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.auth.PrincipalResolver;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.core.gateway.GatewayConfig;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.session.SessionSummary;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;
import dev.policygate.testing.Fixtures;
import dev.policygate.testing.InMemorySessionStore;
import dev.policygate.testing.TestApprovals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The gateway use case as the attack and limit tests drive it: real Cedar with the shipped
 * policies, real analysis and masking, an in-memory session store, a counting upstream, and an
 * in-process approval service whose notices are kept for the test.
 */
final class HardeningGateways implements AutoCloseable {
    static final CedarPolicyEngine POLICIES = CedarPolicyEngine.load(Fixtures.root().resolve("cedar-policies"));
    static final String REPLY = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\","
            + "\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\","
            + "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}";

    /** Answers every call with {@link #REPLY} and counts what was forwarded. */
    static final class CountingUpstream implements ClaudeUpstream {
        final List<UpstreamRequest> sent = new CopyOnWriteArrayList<>();

        @Override
        public UpstreamResponse send(UpstreamRequest request) {
            sent.add(request);
            return new UpstreamResponse(200, Map.of("content-type", "application/json"),
                    new ByteArrayInputStream(REPLY.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public String describe() {
            return "counting";
        }
    }

    final InMemorySessionStore sessions = new InMemorySessionStore();
    final CountingUpstream counting = new CountingUpstream();
    final List<ApprovalNotice> notices = new CopyOnWriteArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    final ExecutorService background = Executors.newSingleThreadExecutor();
    final Gateway gateway;

    HardeningGateways(PrincipalResolver auth) {
        this(auth, GatewayConfig.defaults("http://127.0.0.1:1"), null, Duration.ofMinutes(5));
    }

    /** @param upstream null for the counting upstream */
    HardeningGateways(PrincipalResolver auth, GatewayConfig config, ClaudeUpstream upstream, Duration approvalTimeout) {
        ApprovalService approvals = new ApprovalService(TestApprovals.memoryStore(), notices::add,
                TestApprovals.directory(Map.of("approvers", Set.of("alice@example.com"))),
                new ApprovalLinks(new byte[32]), POLICIES, Clock.systemUTC(), approvalTimeout, "http://127.0.0.1:1",
                scheduler);
        DetectorSet detectors = DetectorSet.builtIns();
        gateway = new Gateway(config, auth, POLICIES, new RequestAnalyzer(detectors),
                new TextMasker(detectors, MaskingConfig.defaults(new byte[32])),
                upstream == null ? counting : upstream, sessions, approvals, Clock.systemUTC(), background);
    }

    static String messages(String extra, String prompt) {
        return "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":64," + extra + "\"messages\":[{\"role\":\"user\","
                + "\"content\":" + Json.mapper().valueToTree(prompt) + "}]}";
    }

    GatewayResponse post(Map<String, String> headers, String body) {
        return gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(), headers,
                body.getBytes(StandardCharsets.UTF_8), false, "127.0.0.1"));
    }

    GatewayResponse handle(GatewayRequest req) {
        return gateway.handle(req);
    }

    static JsonNode json(GatewayResponse r) {
        try {
            return Json.mapper().readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    SessionSummary sessionOf(GatewayResponse r) {
        return sessions.index.get(r.headers().get("x-policygate-session-id"));
    }

    ObjectNode recordingOf(GatewayResponse r) {
        return sessions.recordings.get(r.headers().get("x-policygate-session-id"));
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        background.shutdownNow();
    }
}
