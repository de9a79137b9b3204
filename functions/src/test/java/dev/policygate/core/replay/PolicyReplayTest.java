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
import dev.policygate.testing.ReplayCorpus;
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

    private static InMemorySessionStore recordCorpus() {
        InMemorySessionStore sessions = new InMemorySessionStore();
        ReplayCorpus.record(sessions);
        return sessions;
    }

    private static CedarPolicyEngine candidate(Path dir, String extraPolicy) throws IOException {
        return CedarPolicyEngine.load(ReplayCorpus.candidatePolicies(dir, extraPolicy));
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
