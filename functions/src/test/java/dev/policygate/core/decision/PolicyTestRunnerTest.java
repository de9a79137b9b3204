package dev.policygate.core.decision;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PolicyTestRunnerTest {
    private static final CedarPolicyEngine ENGINE = CedarPolicyEngine.load(RepoPaths.policiesDir());

    @Test
    void run_passesEveryCaseInTheRepository_andEveryDefaultPolicyDecidesSomeCase() {
        // GIVEN the repository's policies, and an engine that remembers which policies decided
        Set<String> deciding = new TreeSet<>();
        PolicyEngine recording = request -> {
            Decision decision = ENGINE.decide(request);
            deciding.addAll(decision.policyIds());
            return decision;
        };

        // WHEN the repository's test cases run
        List<PolicyTestRunner.CaseResult> results = PolicyTestRunner.run(recording,
                RepoPaths.policiesDir().resolve("tests"));

        // THEN all pass, and no default policy is left untested
        String failures = results.stream().filter(r -> !r.passed())
                .map(r -> r.file() + " / " + r.name() + ": " + r.detail()).collect(Collectors.joining("\n"));
        assertThat(failures).as("failing policy test cases").isEmpty();
        assertThat(results).hasSizeGreaterThanOrEqualTo(20);
        assertThat(deciding).containsExactlyInAnyOrderElementsOf(ENGINE.policyIds());
    }

    @Test
    void run_reportsAWrongExpectation_withWhatWasDecided(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("wrong.json"), """
                {"name": "developer expected to be denied",
                 "principal": {"id": "alice", "groups": ["developers"]},
                 "action": "invoke_model", "resource": {"type": "Model", "id": "claude-sonnet-4-5"},
                 "expect": "DENY", "expect_policies": ["no-private-keys"]}
                """);

        List<PolicyTestRunner.CaseResult> results = PolicyTestRunner.run(ENGINE, dir);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.file()).isEqualTo("wrong.json");
            assertThat(r.name()).isEqualTo("developer expected to be denied");
            assertThat(r.passed()).isFalse();
            assertThat(r.detail()).contains("expected DENY").contains("got ALLOW [developers-may-use-claude]");
        });
    }

    @Test
    void run_reportsMalformedFilesAndCases_asFailures(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a-broken.json"), "{ not json");
        Files.writeString(dir.resolve("b-cases.json"), """
                [{"name": "no action", "principal": {"id": "a"}, "resource": {"type": "Model", "id": "m"}, "expect": "ALLOW"},
                 {"name": "bad outcome", "principal": {"id": "a"}, "action": "invoke_model",
                  "resource": {"type": "Model", "id": "m"}, "expect": "MAYBE"},
                 {"name": "a decimal", "principal": {"id": "a"}, "action": "invoke_model",
                  "resource": {"type": "Model", "id": "m"}, "context": {"max_tokens": 1.5}, "expect": "DENY"}]
                """);

        List<PolicyTestRunner.CaseResult> results = PolicyTestRunner.run(ENGINE, dir);

        assertThat(results).extracting(PolicyTestRunner.CaseResult::passed).containsOnly(false);
        assertThat(results).extracting(PolicyTestRunner.CaseResult::detail).satisfiesExactly(
                d -> assertThat(d).startsWith("cannot read"),
                d -> assertThat(d).contains("missing \"action\""),
                d -> assertThat(d).contains("MAYBE"),
                d -> assertThat(d).contains("decimals"));
    }

    @Test
    void request_mergesCaseContextOverTheDefaults() throws Exception {
        var node = dev.policygate.core.json.Json.mapper().readTree("""
                {"principal": {"id": "alice", "groups": ["developers"]}, "action": "invoke_model",
                 "resource": {"type": "Model", "id": "m"},
                 "context": {"max_tokens": 9000, "approval": {"approver": "carol"},
                             "source_ip": "203.0.113.9", "tools": ["bash"]}}
                """);

        AuthzRequest request = PolicyTestRunner.request(node);

        assertThat(request.principal()).isEqualTo(EntityRef.user("alice"));
        assertThat(request.principalParents()).containsExactly("developers");
        assertThat(request.context())
                .containsEntry("max_tokens", 9000L)
                .containsEntry("source_ip", new IpAddress("203.0.113.9"))
                .containsEntry("tools", Set.of("bash"))
                .containsEntry("prompt", "")
                .containsEntry("approval", java.util.Map.of("granted", false, "approver", "carol"));
    }

    @Test
    void run_rejectsAMissingFolder(@TempDir Path dir) {
        assertThatThrownBy(() -> PolicyTestRunner.run(ENGINE, dir.resolve("nope")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
