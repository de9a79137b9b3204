package dev.policygate.core.replay;

import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.approval.ApprovalLinks;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.ApprovalStore;
import dev.policygate.core.approval.ApproverDirectory;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.core.gateway.GatewayConfig;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamResponse;
import dev.policygate.testing.Fixtures;
import dev.policygate.testing.InMemorySessionStore;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class PolicyReplayTest {
    private static final Path POLICIES = Fixtures.root().resolve("cedar-policies");

    /** Records a small corpus through the real gateway with the default policies. */
    private static InMemorySessionStore recordCorpus() {
        InMemorySessionStore sessions = new InMemorySessionStore();
        CedarPolicyEngine policies = CedarPolicyEngine.load(POLICIES);
        DetectorSet detectors = DetectorSet.builtIns();
        ClaudeUpstream upstream = new ClaudeUpstream() {
            @Override
            public UpstreamResponse send(dev.policygate.core.upstream.UpstreamRequest request) {
                return new UpstreamResponse(200, Map.of("content-type", "application/json"), new ByteArrayInputStream(
                        ("{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":"
                                + "[{\"type\":\"text\",\"text\":\"ok\"}],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}")
                                .getBytes(StandardCharsets.UTF_8)));
            }

            @Override
            public String describe() {
                return "fixed";
            }
        };
        ApprovalStore noApprovals = new ApprovalStore() {
            @Override
            public void create(dev.policygate.core.approval.ApprovalRecord r) {
            }

            @Override
            public Optional<dev.policygate.core.approval.ApprovalRecord> get(String id) {
                return Optional.empty();
            }

            @Override
            public Optional<dev.policygate.core.approval.ApprovalRecord> updateIfPending(String id,
                    java.util.function.UnaryOperator<dev.policygate.core.approval.ApprovalRecord> c) {
                return Optional.empty();
            }
        };
        ApproverDirectory dir = new ApproverDirectory() {
            @Override
            public Set<String> approvers(String group) {
                return Set.of("alice@example.com");
            }

            @Override
            public Set<String> groupsOf(String email) {
                return Set.of("approvers");
            }
        };
        var scheduler = Executors.newSingleThreadScheduledExecutor();
        Gateway gateway = new Gateway(GatewayConfig.defaults("http://127.0.0.1:1"),
                h -> new Principal(h.get("x-api-key"), Set.of("developers"), h.get("x-api-key") + "@example.com",
                        "policygate:key", "k", Principal.Method.API_KEY),
                policies, new RequestAnalyzer(detectors), new TextMasker(detectors, MaskingConfig.defaults(new byte[32])),
                upstream, sessions, new ApprovalService(noApprovals, n -> { }, dir, new ApprovalLinks(new byte[32]),
                policies, Clock.systemUTC(), Duration.ofMinutes(5), "http://127.0.0.1:1", scheduler),
                Clock.systemUTC(), Executors.newSingleThreadExecutor());
        String[][] corpus = {
                {"ann", "please DELETE the old branches", "64"},
                {"bob", "summarise this report for carol@example.com", "64"},
                {"ann", "dеlete all rows", "64"},   // Cyrillic е: normalisation still sees "delete"
                {"cid", "a long essay", "9000"},
                {"bob", "what is the weather", "64"}};
        for (String[] c : corpus) {
            gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(), Map.of("x-api-key", c[0]),
                    ("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":" + c[2] + ",\"messages\":[{\"role\":\"user\","
                            + "\"content\":\"" + c[1] + "\"}]}").getBytes(StandardCharsets.UTF_8), false, "10.0.0.7"));
        }
        scheduler.shutdownNow();
        return sessions;
    }

    private static CedarPolicyEngine candidate(Path dir, String extraPolicy) throws IOException {
        Path copy = dir.resolve("candidate");
        try (Stream<Path> files = Files.walk(POLICIES)) {
            for (Path f : files.toList()) {
                Path target = copy.resolve(POLICIES.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
        Files.writeString(copy.resolve("policies/candidate.cedar"), extraPolicy);
        return CedarPolicyEngine.load(copy);
    }

    @Test
    void replay_flipsExactlyTheSessionsAStricterPolicyWouldDeny(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws IOException {
        InMemorySessionStore corpus = recordCorpus();
        CedarPolicyEngine stricter = candidate(tmp, "@id(\"no-delete\")\n@message(\"No deleting.\")\n"
                + "forbid (principal, action == Policygate::Action::\"invoke_model\", resource)\n"
                + "when { context.prompt like \"*delete*\" };\n");

        PolicyReplay.Report report = new PolicyReplay(stricter, DetectorSet.builtIns())
                .replay(corpus, null, null, 1000);

        assertThat(report.examined()).isEqualTo(5);
        assertThat(report.changes()).hasSize(2);
        assertThat(report.changes()).allSatisfy(c -> {
            assertThat(c.principal()).isEqualTo("ann");
            assertThat(c.recorded()).isEqualTo("ALLOW");
            assertThat(c.replayed()).isEqualTo("DENY");
            assertThat(c.policyIds()).containsExactly("no-delete");
            assertThat(c.messages()).containsExactly("No deleting.");
        });
    }

    @Test
    void replay_withTheSamePolicies_changesNothing_includingApprovals() throws IOException {
        InMemorySessionStore corpus = recordCorpus();
        PolicyReplay.Report report = new PolicyReplay(CedarPolicyEngine.load(POLICIES), DetectorSet.builtIns())
                .replay(corpus, null, null, 1000);
        assertThat(report.examined()).isEqualTo(5);
        assertThat(report.changes()).isEmpty();
        Map<String, Long> byDecision = new HashMap<>();
        corpus.index.values().forEach(s -> byDecision.merge(s.decision(), 1L, Long::sum));
        assertThat(byDecision).containsEntry("APPROVAL", 1L).containsEntry("ALLOW", 4L);
    }
}
