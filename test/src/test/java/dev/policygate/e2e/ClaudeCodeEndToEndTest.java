package dev.policygate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.policygate.local.LocalGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Claude Code itself (the pinned CLI in {@code test/clients}, print mode) against the local
 * gateway in front of the mock Anthropic API, changed only by its base URL and key. Claude Code
 * streams, declares its tools, sends system turns inside {@code messages}, and asks for a large
 * {@code max_tokens}; {@code CLAUDE_CODE_MAX_OUTPUT_TOKENS} keeps that under the shipped policy that
 * holds budgets above 8,192 tokens for approval (see the README's Claude Code section).
 */
class ClaudeCodeEndToEndTest {
    private static final String UPSTREAM_KEY = "sk-ant-upstream-SECRET-never-echoed-0123456789";
    private static final String AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path data;
    @TempDir
    static Path home;
    static MockAnthropic mock;
    static LocalGateway gw;
    static String devKey;

    @BeforeAll
    static void start() throws IOException {
        mock = new MockAnthropic();
        devKey = GatewayEndToEndTest.createKey(data, "dev", Set.of("developers"), "dev@example.com");
        gw = LocalGateway.start(LocalGateway.Options.defaults(data, RepoPaths.root().resolve("cedar-policies"))
                        .withPort(0).withUpstream(URI.create(mock.baseUrl()), UPSTREAM_KEY),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (mock != null) {
            mock.close();
        }
    }

    /** The Claude Code binary from {@code test/clients}, installed with {@code npm ci} when missing. */
    static Path claudeCode() throws IOException, InterruptedException {
        Path dir = RepoPaths.root().resolve("test").resolve("clients");
        Path bin = dir.resolve("node_modules/@anthropic-ai/claude-code/bin/claude.exe");
        if (!Files.isExecutable(bin) || Files.size(bin) < 1_000_000) {
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(new File(dir.toFile(), "npm-ci.log")).start();
            assertThat(npm.waitFor(10, TimeUnit.MINUTES)).as("npm ci in test/clients finished").isTrue();
            assertThat(npm.exitValue()).as("npm ci in test/clients (see npm-ci.log)").isZero();
        }
        return bin;
    }

    /** Runs {@code claude -p prompt} with nothing of this machine's environment but what it needs. */
    static Run claude(String prompt) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(claudeCode().toString(), "-p", prompt).directory(home.toFile())
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("ANTHROPIC_") || k.startsWith("CLAUDE"));
        env.put("HOME", home.toString());
        env.put("ANTHROPIC_BASE_URL", gw.baseUrl());
        env.put("ANTHROPIC_API_KEY", devKey);
        // offline: no telemetry, update checks or other calls beyond the API
        env.put("DISABLE_TELEMETRY", "1");
        env.put("DISABLE_AUTOUPDATER", "1");
        env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        env.put("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("claude -p finished").isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    record Run(int exit, String output) {
    }

    private static List<JsonNode> sessions() throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("index.jsonl"))) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void claudeCode_runsThroughTheGateway_streaming_withTheKeyHeldBackAndMaskingBothWays() throws Exception {
        // GIVEN the mock answering with an address, which developers may not read in replies
        mock.replyOverride = "Done. Questions to ops@example.com please.";

        // WHEN Claude Code runs a prompt that carries an AWS access key
        Run run = claude("deploy with key " + AWS_KEY + " and report back");

        // THEN it prints the reply, masked for the developer, and exits normally
        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output()).contains("Done. Questions to [EMAIL] please.").doesNotContain("ops@example.com");
        // AND the upstream saw a streamed Messages request with the gateway's key, never the caller's,
        // and the AWS key masked
        List<MockAnthropic.Received> messages = mock.received.stream()
                .filter(r -> r.path().equals("/v1/messages")).toList();
        assertThat(messages).isNotEmpty();
        MockAnthropic.Received up = messages.get(messages.size() - 1);
        assertThat(up.headers().get("X-api-key")).containsExactly(UPSTREAM_KEY);
        assertThat(up.headers().toString()).doesNotContain(devKey);
        JsonNode body = JSON.readTree(up.body());
        assertThat(body.path("stream").asBoolean()).isTrue();
        assertThat(body.path("tools").size()).as("Claude Code declares its tools").isPositive();
        assertThat(up.body()).doesNotContain(AWS_KEY).contains("[AWS_ACCESS_KEY]");
        // AND every request it made is a recorded session that completed
        List<JsonNode> finals = sessions().stream().filter(s -> !s.path("status").asText().equals("IN_FLIGHT")).toList();
        assertThat(finals).isNotEmpty();
        assertThat(finals).allSatisfy(s -> assertThat(s.path("status").asText()).isEqualTo("COMPLETED"));
        assertThat(finals).anySatisfy(s -> assertThat(s.path("route").asText()).isEqualTo("POST /v1/messages"));
    }
}
