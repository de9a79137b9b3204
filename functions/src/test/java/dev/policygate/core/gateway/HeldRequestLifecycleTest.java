package dev.policygate.core.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.aws.sfn.StepFunctionsApprovalWorkflow;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.approval.ApprovalWorkflow;
import dev.policygate.core.approval.HeldRequest;
import dev.policygate.core.approval.InMemoryHeldRequestStore;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.testing.Fixtures;
import dev.policygate.testing.InMemorySessionStore;
import dev.policygate.testing.TestApprovals;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sfn.SfnClient;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A held request from the gateway's side, with the workflow out of process (as on AWS): the
 * hold, a failed start, and the resume and end use cases the workflow's functions call, each
 * safe to call again.
 */
class HeldRequestLifecycleTest {
    private static final CedarPolicyEngine POLICIES = CedarPolicyEngine.load(Fixtures.root().resolve("cedar-policies"));
    private static final String BIG = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":10000,\"messages\":[{\"role\":"
            + "\"user\",\"content\":\"report for dave@example.com\"}]}";

    final InMemorySessionStore sessions = new InMemorySessionStore();
    final GatewayTest.ScriptedUpstream upstream = new GatewayTest.ScriptedUpstream();
    final InMemoryHeldRequestStore held = new InMemoryHeldRequestStore(10, 10);
    final List<HeldRequest> started = new CopyOnWriteArrayList<>();

    private Gateway gateway(ApprovalWorkflow workflow) {
        DetectorSet detectors = DetectorSet.builtIns();
        return new Gateway(GatewayConfig.defaults("https://gw.example"),
                headers -> new Principal("dev", Set.of("developers"), "dev@example.com", "policygate:key", "k",
                        Principal.Method.API_KEY), POLICIES, new RequestAnalyzer(detectors),
                new TextMasker(detectors, MaskingConfig.defaults(new byte[32])), upstream, sessions, workflow, null,
                held, Clock.systemUTC(), Executors.newSingleThreadExecutor());
    }

    private GatewayResponse post(Gateway g, String body) {
        return g.handle(new GatewayRequest("POST", "/v1/messages", Map.of(), Map.of("x-api-key", "k"),
                body.getBytes(StandardCharsets.UTF_8), false, "127.0.0.1"));
    }

    private final ApprovalWorkflow outOfProcess = h -> {
        started.add(h);
        return Instant.now().plus(Duration.ofHours(1));
    };

    @Test
    void resumeApproved_forwardsOnce_howeverOftenTheWorkflowRetries() throws IOException {
        Gateway g = gateway(outOfProcess);
        GatewayResponse accepted = post(g, BIG);
        assertThat(accepted.status()).isEqualTo(202);
        String id = accepted.headers().get("x-policygate-session-id");
        assertThat(started).singleElement().satisfies(h -> {
            assertThat(h.sessionId()).isEqualTo(id);
            assertThat(h.maskedExcerpt()).contains("[EMAIL]").doesNotContain("dave@example.com");
        });
        assertThat(sessions.index.get(id).status()).isEqualTo(SessionStatus.PENDING_APPROVAL);

        // another process (a new gateway over the same stores) continues from the recording
        Gateway forward = gateway(null);
        assertThat(forward.resumeApproved(id, "alice@example.com", Set.of("approvers"))).isEqualTo(SessionStatus.COMPLETED);
        assertThat(forward.resumeApproved(id, "alice@example.com", Set.of("approvers"))).isEqualTo(SessionStatus.COMPLETED);
        assertThat(forward.endHeld(id, SessionStatus.EXPIRED, null, null)).isEqualTo(SessionStatus.COMPLETED);
        assertThat(upstream.sent).hasSize(1);
        // Claude got the original prompt; the recording keeps it masked, with the whole trail
        assertThat(new String(upstream.sent.get(0).body(), StandardCharsets.UTF_8)).contains("dave@example.com");
        JsonNode rec = sessions.recording(id).orElseThrow();
        assertThat(rec.toString()).doesNotContain("dave@example.com");
        assertThat(rec.path("approval").toString()).contains("requested").contains("approved")
                .contains("re-evaluated:ALLOW");
        assertThat(held.get(id)).isEmpty();
        assertThat(held.reply(id)).isPresent();
    }

    @Test
    void endHeld_recordsDenialOnce_andNeverForwards() throws IOException {
        Gateway g = gateway(outOfProcess);
        String id = post(g, BIG).headers().get("x-policygate-session-id");
        Gateway other = gateway(null);
        assertThat(other.endHeld(id, SessionStatus.REJECTED, "bob@example.com", null)).isEqualTo(SessionStatus.REJECTED);
        assertThat(other.resumeApproved(id, "alice@example.com", Set.of("approvers"))).isEqualTo(SessionStatus.REJECTED);
        assertThat(upstream.sent).isEmpty();
        JsonNode rec = sessions.recording(id).orElseThrow();
        assertThat(rec.path("status").asText()).isEqualTo("REJECTED");
        assertThat(rec.path("approval").toString()).contains("denied").contains("bob@example.com");
        assertThat(held.get(id)).isEmpty();
        assertThat(other.endHeld("01KRA5TS0000000000000000ZZ", SessionStatus.FAILED, null, "x")).isNull();
    }

    @Test
    void startExecutionFails_theCallerGets503_theSessionIsRecorded_andNothingIsLeftHeld() throws IOException {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        SfnClient sfn = SfnClient.builder().region(Region.US_EAST_1)
                .endpointOverride(URI.create("http://127.0.0.1:" + deadPort))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofMillis(300)).build())
                .overrideConfiguration(ClientOverrideConfiguration.builder().apiCallTimeout(Duration.ofSeconds(5)).build())
                .build();
        Gateway g = gateway(new StepFunctionsApprovalWorkflow(sfn,
                "arn:aws:states:us-east-1:123456789012:stateMachine:approval",
                TestApprovals.directory(Map.of("approvers", Set.of("alice@example.com"))), Duration.ofHours(1),
                Clock.systemUTC()));
        GatewayResponse r = post(g, BIG);
        assertThat(r.status()).isEqualTo(503);
        JsonNode body = Json.mapper().readTree(r.body());
        assertThat(body.path("error").path("message").asText()).contains("could not be sent");
        String id = r.headers().get("x-policygate-session-id");
        assertThat(sessions.index.get(id).status()).isEqualTo(SessionStatus.FAILED);
        assertThat(held.get(id)).isEmpty();
        assertThat(upstream.sent).isEmpty();

        // and a group nobody can approve for is a 403 before anything starts
        Gateway nobody = gateway(new StepFunctionsApprovalWorkflow(sfn,
                "arn:aws:states:us-east-1:123456789012:stateMachine:approval",
                TestApprovals.directory(Map.of("approvers", Set.of("dev@example.com"))), Duration.ofHours(1),
                Clock.systemUTC()));
        GatewayResponse refused = post(nobody, BIG);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(Json.mapper().readTree(refused.body()).path("error").path("message").asText())
                .contains("no approvers configured");
        sfn.close();
    }
}
