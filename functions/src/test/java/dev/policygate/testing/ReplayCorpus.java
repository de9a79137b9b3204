package dev.policygate.testing;

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
import dev.policygate.core.session.SessionStore;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamResponse;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;

/** A small recorded corpus for policy replay tests, written through the real gateway. */
public final class ReplayCorpus {
    private ReplayCorpus() {
    }

    /**
     * Records five requests through the real gateway with the default policies: two prompts
     * that a "no delete" policy would deny (one written with a Cyrillic е), one over the token
     * budget (held for approval), and two plain ones.
     */
    public static void record(SessionStore sessions) {
        CedarPolicyEngine policies = CedarPolicyEngine.load(Fixtures.root().resolve("cedar-policies"));
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
        ApprovalStore noApprovals = TestApprovals.memoryStore();
        ApproverDirectory dir = TestApprovals.directory(Map.of("approvers", Set.of("alice@example.com")));
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
    }


    /** The stricter candidate used by the replay tests: forbid prompts containing "delete". */
    public static final String NO_DELETE = "@id(\"no-delete\")\n@message(\"No deleting.\")\n"
            + "forbid (principal, action == Policygate::Action::\"invoke_model\", resource)\n"
            + "when { context.prompt like \"*delete*\" };\n";

    /** A copy of the repository's policies plus {@code extraPolicy}, under {@code dir/candidate}. */
    public static java.nio.file.Path candidatePolicies(java.nio.file.Path dir, String extraPolicy)
            throws java.io.IOException {
        java.nio.file.Path source = Fixtures.root().resolve("cedar-policies");
        java.nio.file.Path copy = dir.resolve("candidate");
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(source)) {
            for (java.nio.file.Path f : files.toList()) {
                java.nio.file.Path target = copy.resolve(source.relativize(f).toString());
                if (java.nio.file.Files.isDirectory(f)) {
                    java.nio.file.Files.createDirectories(target);
                } else {
                    java.nio.file.Files.copy(f, target);
                }
            }
        }
        java.nio.file.Files.writeString(copy.resolve("policies/candidate.cedar"), extraPolicy);
        return copy;
    }
}
