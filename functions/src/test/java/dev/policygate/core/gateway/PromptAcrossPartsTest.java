package dev.policygate.core.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.approval.ApprovalLinks;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.auth.AuthenticationException;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.testing.Fixtures;
import dev.policygate.testing.InMemorySessionStore;
import dev.policygate.testing.TestApprovals;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prompt masking of an entity that runs from one string of a request into the next (a private
 * key whose BEGIN line is one content block and whose body is the next): each piece is masked in
 * its own string before the request leaves, and in the recording; where the masker cannot join the
 * pieces as the analyser did, the request is refused and its recording keeps no text.
 */
class PromptAcrossPartsTest {
    private static final String BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "Q".repeat(48);

    private final InMemorySessionStore sessions = new InMemorySessionStore();
    private final GatewayTest.ScriptedUpstream upstream = new GatewayTest.ScriptedUpstream();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
    }

    /** The repository's policies without the hard deny of private keys, so that the key is masked instead. */
    private static CedarPolicyEngine policiesThatMaskPrivateKeys() throws IOException {
        Path dir = Fixtures.root().resolve("cedar-policies");
        Map<String, String> files;
        try (Stream<Path> list = Files.list(dir.resolve("policies"))) {
            files = list.filter(p -> !p.getFileName().toString().equals("secrets.cedar"))
                    .collect(Collectors.toMap(p -> p.getFileName().toString(), p -> read(p)));
        }
        return CedarPolicyEngine.fromSources(Files.readString(dir.resolve("policygate.cedarschema")), files);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Gateway gateway(CedarPolicyEngine policies, DetectorSet detectors) {
        Principal dev = new Principal("dev", Set.of("developers"), "dev@example.com", "policygate:key", "key_1",
                Principal.Method.API_KEY);
        ApprovalService approvals = new ApprovalService(TestApprovals.memoryStore(), n -> { },
                TestApprovals.directory(Map.of("approvers", Set.of("alice@example.com"))),
                new ApprovalLinks(new byte[32]), policies, Clock.systemUTC(), Duration.ofMinutes(5), "http://127.0.0.1:1",
                scheduler);
        return new Gateway(GatewayConfig.defaults("http://127.0.0.1:1"), headers -> {
            if (!"dev-key".equals(headers.get("x-api-key"))) {
                throw new AuthenticationException(AuthenticationException.Reason.UNKNOWN_KEY, "invalid x-api-key");
            }
            return dev;
        }, policies, new RequestAnalyzer(detectors), new TextMasker(detectors, MaskingConfig.defaults(new byte[32])),
                upstream, sessions, approvals, Clock.systemUTC(), Executors.newSingleThreadExecutor());
    }

    private static GatewayResponse post(Gateway gateway, ObjectNode body) throws IOException {
        return gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(), Map.of("x-api-key", "dev-key"),
                Json.mapper().writeValueAsBytes(body), false, "127.0.0.1"));
    }

    /** A user turn of two text blocks holding {@code first} and {@code second}. */
    private static ObjectNode twoBlocks(String first, String second) {
        ObjectNode body = Json.mapper().createObjectNode().put("model", "claude-sonnet-4-5").put("max_tokens", 64);
        ArrayNode content = body.putArray("messages").addObject().put("role", "user").putArray("content");
        content.addObject().put("type", "text").put("text", first);
        content.addObject().put("type", "text").put("text", second);
        return body;
    }

    private String recordingOf(GatewayResponse r) {
        return sessions.recordings.get(r.headers().get("x-policygate-session-id")).toString();
    }

    @Test
    void aPrivateKeySplitOverTwoContentBlocks_isMaskedInBothBeforeItLeaves_andInTheRecording() throws IOException {
        // GIVEN policies that mask private keys for the model, and a key whose BEGIN line is one block
        Gateway gateway = gateway(policiesThatMaskPrivateKeys(), DetectorSet.builtIns());
        ObjectNode body = twoBlocks("deploy with this key " + BEGIN, KEY_BODY + "\n-----END PRIVATE KEY-----\nthanks");

        // WHEN it is sent
        GatewayResponse r = post(gateway, body);

        // THEN Claude receives neither half, only the placeholders and the text around them
        assertThat(r.status()).isEqualTo(200);
        assertThat(upstream.sent).hasSize(1);
        JsonNode forwarded = Json.mapper().readTree(upstream.sent.get(0).body());
        assertThat(forwarded.at("/messages/0/content/0/text").asText()).isEqualTo("deploy with this key [PRIVATE_KEY]");
        assertThat(forwarded.at("/messages/0/content/1/text").asText()).isEqualTo("[PRIVATE_KEY]\nthanks");
        // AND the recording holds neither half either
        assertThat(recordingOf(r)).doesNotContain(BEGIN).doesNotContain(KEY_BODY).contains("[PRIVATE_KEY]");
        assertThat(sessions.index.get(r.headers().get("x-policygate-session-id")).status())
                .isEqualTo(SessionStatus.COMPLETED);
    }

    @Test
    void theShippedPolicies_stillDenyAPrivateKeySplitOverTwoBlocks() throws IOException {
        Gateway gateway = gateway(CedarPolicyEngine.load(Fixtures.root().resolve("cedar-policies")), DetectorSet.builtIns());
        GatewayResponse r = post(gateway, twoBlocks("key " + BEGIN, KEY_BODY + "\n-----END PRIVATE KEY-----"));
        assertThat(r.status()).isEqualTo(403);
        assertThat(Json.mapper().readTree(r.body()).at("/error/policy_ids").toString()).contains("no-private-keys");
        assertThat(upstream.sent).isEmpty();
        assertThat(recordingOf(r)).doesNotContain(BEGIN).doesNotContain(KEY_BODY);
    }

    @Test
    void anEntityTheMaskerCannotJoinAsTheAnalyserDid_isRefused_andItsRecordingKeepsNoText() throws IOException {
        // GIVEN a custom secret pattern that spans a newline, and a ticket split over two text blocks where the
        // first block also carries a citation: the analyser reads only the blocks' text (so it sees the ticket
        // across the join), while masking walks the citation too, which then sits between the two halves
        DetectorSet detectors = DetectorSet.withCustom(List.of(
                new DetectorSet.CustomPattern("TICKET", DataClass.Kind.SECRET, "TKT-[0-9]{4}\\n[0-9]{4}")));
        Gateway gateway = gateway(policiesThatMaskPrivateKeys(), detectors);
        ObjectNode body = twoBlocks("see TKT-4821", "7730 for details");
        ((ObjectNode) body.at("/messages/0/content/0")).putArray("citations").addObject()
                .put("type", "char_location").put("cited_text", "quoted").put("document_index", 0)
                .put("start_char_index", 0).put("end_char_index", 6);

        // WHEN it is sent
        GatewayResponse r = post(gateway, body);

        // THEN it is refused with a message naming the class but not the value, and nothing is forwarded
        assertThat(r.status()).isEqualTo(400);
        JsonNode error = Json.mapper().readTree(r.body()).path("error");
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("message").asText()).contains("secret:TICKET").doesNotContain("4821").doesNotContain("7730");
        assertThat(upstream.sent).isEmpty();
        // AND the recording keeps no text of the request at all
        assertThat(recordingOf(r)).doesNotContain("4821").doesNotContain("7730").contains("text_removed");
    }

    @Test
    void aSecondSplitKeyTheMaskerCannotJoin_isRefused_evenWhenAFirstOneOfTheSameClassWasMasked() throws IOException {
        // GIVEN one key split over two text blocks (the masker joins and masks it), and a second, without an
        // END line, whose BEGIN line is a text block and whose body is the input of the tool_use after it: the
        // masker's walk puts the tool's name between the two, the analyser's does not
        Gateway gateway = gateway(policiesThatMaskPrivateKeys(), DetectorSet.builtIns());
        ObjectNode body = twoBlocks("first " + BEGIN, KEY_BODY + "\n-----END PRIVATE KEY-----");
        ArrayNode second = body.withArray("messages").addObject().put("role", "assistant").putArray("content");
        second.addObject().put("type", "text").put("text", BEGIN);
        String secondBody = "Zm9vYmFy".repeat(10);
        second.addObject().put("type", "tool_use").put("id", "toolu_1").put("name", "save_key")
                .putObject("input").put("k", secondBody);
        body.withArray("messages").addObject().put("role", "user").put("content", "ok");

        // WHEN it is sent
        GatewayResponse r = post(gateway, body);

        // THEN it is refused and nothing is forwarded, and the recording keeps neither key
        assertThat(r.status()).isEqualTo(400);
        assertThat(Json.mapper().readTree(r.body()).at("/error/message").asText()).contains("secret:PRIVATE_KEY");
        assertThat(upstream.sent).isEmpty();
        assertThat(recordingOf(r)).doesNotContain(secondBody).doesNotContain(KEY_BODY);
    }

    @Test
    void aCustomMatchThatEndsOnTheJoiningNewline_isMaskedInTheStringItCameFrom() throws IOException {
        // GIVEN a custom secret whose pattern takes in the whitespace after it, at the end of a text block
        DetectorSet detectors = DetectorSet.withCustom(List.of(
                new DetectorSet.CustomPattern("ACCOUNT", DataClass.Kind.SECRET, "ACCT-[0-9]{6}\\s")));
        Gateway gateway = gateway(policiesThatMaskPrivateKeys(), detectors);

        // WHEN the account number ends the first block (so only the joined text, with its newline, matches)
        GatewayResponse r = post(gateway, twoBlocks("charge ACCT-123456", "thanks"));

        // THEN it is masked where it was, and the rest goes as sent
        assertThat(r.status()).isEqualTo(200);
        JsonNode forwarded = Json.mapper().readTree(upstream.sent.get(0).body());
        assertThat(forwarded.at("/messages/0/content/0/text").asText()).isEqualTo("charge [ACCOUNT]");
        assertThat(forwarded.at("/messages/0/content/1/text").asText()).isEqualTo("thanks");
        assertThat(recordingOf(r)).doesNotContain("123456");
    }

    @Test
    void withoutSuchAnEntity_theCallersBytesAreForwardedUnchanged() throws IOException {
        Gateway gateway = gateway(policiesThatMaskPrivateKeys(), DetectorSet.builtIns());
        ObjectNode body = twoBlocks("hello", "mail bob@example.com");
        GatewayResponse r = post(gateway, body);
        assertThat(r.status()).isEqualTo(200);
        assertThat(upstream.sent.get(0).body()).isEqualTo(Json.mapper().writeValueAsBytes(body));
        assertThat(new String(upstream.sent.get(0).body(), StandardCharsets.UTF_8)).contains("bob@example.com");
    }
}
