package dev.policygate.e2e;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.HttpResponseFor;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.errors.PermissionDeniedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.local.FileApiKeyStore;
import dev.policygate.local.LocalGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The local gateway, end to end: the official Anthropic Java SDK talks to the gateway, which
 * talks to a mock Anthropic upstream. Everything binds to 127.0.0.1 and is stopped afterwards.
 */
class GatewayEndToEndTest {
    private static final String UPSTREAM_KEY = "sk-ant-upstream-SECRET-never-echoed-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path data;
    static MockAnthropic mock;
    static LocalGateway gw;
    static String devKey;
    static String auditorKey;
    static AnthropicClient client;
    static ByteArrayOutputStream console = new ByteArrayOutputStream();

    @BeforeAll
    static void start() throws IOException {
        mock = new MockAnthropic();
        Files.writeString(data.resolve("approvers.json"), "{\"groups\":{\"approvers\":[\"alice@example.com\"]}}");
        devKey = createKey("dev", Set.of("developers"), "dev@example.com");
        auditorKey = createKey("audrey", Set.of("auditors"), "audrey@example.com");
        gw = LocalGateway.start(LocalGateway.Options.defaults(data, RepoPaths.root().resolve("cedar-policies"))
                .withPort(0).withUpstream(URI.create(mock.baseUrl()), UPSTREAM_KEY)
                .withUpstreamIdleTimeout(java.time.Duration.ofSeconds(1)),
                new PrintStream(console, true, StandardCharsets.UTF_8));
        client = sdk(devKey);
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

    @BeforeEach
    void reset() {
        mock.mode.set(MockAnthropic.Mode.OK);
        mock.replyOverride = null;
        mock.received.clear();
    }

    static String createKey(String principal, Set<String> groups, String email) {
        return createKey(data, principal, groups, email);
    }

    /** A new gateway key for {@code principal}, stored in the local data folder {@code dir}. */
    static String createKey(Path dir, String principal, Set<String> groups, String email) {
        String key = ApiKeys.newKey();
        String hash = ApiKeys.hash(key);
        FileApiKeyStore.open(dir).put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, groups, email,
                Instant.now(), false));
        return key;
    }

    static AnthropicClient sdk(String key) {
        return AnthropicOkHttpClient.builder().baseUrl(gw.baseUrl()).apiKey(key).maxRetries(0).build();
    }

    static MessageCreateParams params(String prompt, long maxTokens) {
        return MessageCreateParams.builder().model("claude-sonnet-4-5").maxTokens(maxTokens).addUserMessage(prompt)
                .build();
    }

    static String text(Message m) {
        return m.content().stream().filter(b -> b.isText()).map(b -> b.asText().text()).collect(Collectors.joining());
    }

    static HttpResponse<String> post(String path, String key, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + path))
                .header("x-api-key", key).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.baseUrl() + path)).GET();
        if (key != null) {
            b.header("x-api-key", key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The session's recording on disk: its last line in the day files (a session may be recorded more than once). */
    static JsonNode recording(String sessionId) throws IOException {
        List<Path> dayFiles;
        try (Stream<Path> files = Files.walk(data.resolve("sessions"))) {
            dayFiles = files.filter(p -> p.getFileName().toString().equals("recordings.jsonl")).sorted().toList();
        }
        JsonNode found = null;
        for (Path day : dayFiles) {
            for (String line : Files.readAllLines(day, StandardCharsets.UTF_8)) {
                JsonNode rec;
                try {
                    rec = JSON.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException beingWritten) {
                    continue;
                }
                if (sessionId.equals(rec.path("session_id").asText())) {
                    found = rec;
                }
            }
        }
        if (found == null) {
            throw new AssertionError("no recording for " + sessionId);
        }
        return found;
    }

    static String allRecordedText() throws IOException {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> files = Files.walk(data)) {
            for (Path f : files.filter(Files::isRegularFile).collect(Collectors.toList())) {
                b.append(Files.readString(f, StandardCharsets.ISO_8859_1));
            }
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ allow + masking

    @Test
    void sdkMessage_isForwardedWithTheGatewayCredential_andTheReplyIsMasked() throws Exception {
        // GIVEN a developer without pii-readers, and a prompt with an email and an AWS access key
        HttpResponseFor<Message> raw = client.messages().withRawResponse()
                .create(params("Mail bob@example.com the key AKIAIOSFODNN7EXAMPLE", 100));

        // THEN the reply arrives in the Messages shape, with the email masked for this reader
        Message m = raw.parse();
        assertThat(text(m)).isEqualTo("echo: Mail [EMAIL] the key [AWS_ACCESS_KEY]");
        assertThat(m.usage().outputTokens()).isEqualTo(34);
        String sessionId = raw.headers().values("x-policygate-session-id").get(0);
        assertThat(sessionId).hasSize(26);

        // AND the upstream saw the gateway's key, never the caller's, and no secret (masked in the prompt)
        MockAnthropic.Received up = mock.received.get(0);
        assertThat(up.headers().get("X-api-key")).containsExactly(UPSTREAM_KEY);
        assertThat(up.headers().toString()).doesNotContain(devKey);
        assertThat(up.body()).contains("bob@example.com").contains("[AWS_ACCESS_KEY]")
                .doesNotContain("AKIAIOSFODNN7EXAMPLE");

        // AND the recording holds masked content only, the decision and the principal
        JsonNode rec = recording(sessionId);
        assertThat(rec.path("status").asText()).isEqualTo("COMPLETED");
        assertThat(rec.path("decision").path("outcome").asText()).isEqualTo("ALLOW");
        assertThat(rec.path("principal").path("id").asText()).isEqualTo("dev");
        assertThat(rec.toString()).doesNotContain("bob@example.com").doesNotContain("AKIAIOSFODNN7EXAMPLE")
                .doesNotContain(devKey);
        assertThat(rec.path("detections").toString()).contains("pii:EMAIL").contains("secret:AWS_ACCESS_KEY");
    }

    @Test
    void sdkStream_masksAnEmailSplitAcrossDeltas_andKeepsTheEventOrder() {
        // GIVEN an upstream that streams the reply in 5-char deltas (the email spans several)
        MessageAccumulator acc = MessageAccumulator.create();
        List<String> types;
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages()
                .createStreaming(params("please contact carol.smith@example.org today", 100))) {
            types = stream.stream().peek(acc::accumulate).map(e -> e.isMessageStart() ? "message_start"
                    : e.isContentBlockStart() ? "content_block_start" : e.isContentBlockDelta() ? "delta"
                    : e.isContentBlockStop() ? "content_block_stop" : e.isMessageDelta() ? "message_delta"
                    : e.isMessageStop() ? "message_stop" : "other").collect(Collectors.toList());
        }
        // THEN the SDK assembles a complete, masked message
        Message m = acc.message();
        assertThat(text(m)).isEqualTo("echo: please contact [EMAIL] today");
        assertThat(m.stopReason()).isPresent();
        assertThat(m.usage().outputTokens()).isEqualTo(34);
        assertThat(types.get(0)).isEqualTo("message_start");
        assertThat(types.get(types.size() - 1)).isEqualTo("message_stop");
        assertThat(types.get(types.size() - 2)).isEqualTo("message_delta");
    }

    @Test
    void streamCutOffByTheUpstream_endsWithAnErrorEvent_andIsRecordedAsFailed() throws Exception {
        mock.mode.set(MockAnthropic.Mode.CUT_STREAM);
        HttpResponse<String> r = post("/v1/messages", devKey,
                "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"a fairly long prompt so that the cut lands mid stream\"}]}");
        assertThat(r.body()).contains("event: error").doesNotContain("event: message_stop");
        JsonNode rec = recording(r.headers().firstValue("x-policygate-session-id").orElseThrow());
        assertThat(rec.path("status").asText()).isEqualTo("FAILED");
    }

    @Test
    void stalledUpstream_isCutAfterTheIdleLimit_withAnErrorEventOrA504_andRecordedAsFailed() throws Exception {
        mock.mode.set(MockAnthropic.Mode.STALL);
        long t0 = System.nanoTime();
        HttpResponse<String> streamed = post("/v1/messages", devKey, "{\"model\":\"claude-sonnet-4-5\","
                + "\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(streamed.body()).contains("event: error").contains("TIMEOUT");
        assertThat(recording(streamed.headers().firstValue("x-policygate-session-id").orElseThrow())
                .path("status").asText()).isEqualTo("FAILED");
        HttpResponse<String> json = post("/v1/messages", devKey, "{\"model\":\"claude-sonnet-4-5\","
                + "\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(json.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(json.body()).path("error").path("type").asText()).isEqualTo("api_error");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0)).isLessThan(java.time.Duration.ofSeconds(8));
    }

    // ------------------------------------------------------------------ deny

    @Test
    void deniedRequest_surfacesAsATypedSdkError_namingThePolicy() throws Exception {
        String pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQABAoIBAQCQ\n-----END RSA PRIVATE KEY-----";
        assertThatThrownBy(() -> client.messages().create(params("debug this key " + pem, 100)))
                .isInstanceOfSatisfying(PermissionDeniedException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(403);
                    assertThat(e.getMessage()).containsIgnoringCase("private key");
                    assertThat(e.headers().values("x-policygate-session-id")).hasSize(1);
                });
        assertThat(mock.received).isEmpty();
    }

    @Test
    void deniedTool_isRefusedBeforeAnythingIsForwarded() throws Exception {
        HttpResponse<String> r = post("/v1/messages", auditorKey,
                "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        // auditors are not developers: default deny
        assertThat(r.statusCode()).isEqualTo(403);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("type").asText()).isEqualTo("error");
        assertThat(body.path("error").path("type").asText()).isEqualTo("permission_error");
        assertThat(mock.received).isEmpty();
    }

    // ------------------------------------------------------------------ approval

    @Test
    void approvalRoundTrip_throughTheConfirmationPage_forwardsOnceAndReturnsTheReply() throws Exception {
        // GIVEN a request over the token budget that policy holds for approval
        HttpResponseFor<Message> raw = client.messages().withRawResponse()
                .create(params("summarise the quarterly report for dave@example.com", 10_000));
        assertThat(raw.statusCode()).isEqualTo(202);
        String sessionId = raw.headers().values("x-policygate-session-id").get(0);
        assertThat(mock.received).isEmpty();

        // WHEN the approver opens the emailed link (GET changes nothing)
        String link = linkFromOutbox(sessionId);
        HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(link)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Approve").contains("dev").doesNotContain("dave@example.com");
        assertThat(JSON.readTree(get("/v1/sessions/" + sessionId, devKey).body()).path("status").asText())
                .isEqualTo("PENDING_APPROVAL");
        assertThat(mock.received).isEmpty();

        // AND submits Approve with the page's CSRF token
        Map<String, String> form = hiddenFields(page.body());
        form.put("decision", "approve");
        HttpResponse<String> done = postForm(link, form);
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).contains("approved");

        // THEN the requester gets the reply from the session
        JsonNode session = JSON.readTree(get("/v1/sessions/" + sessionId + "?wait=10", devKey).body());
        assertThat(session.path("status").asText()).isEqualTo("COMPLETED");
        assertThat(session.path("reply").path("content").get(0).path("text").asText())
                .isEqualTo("echo: summarise the quarterly report for [EMAIL]");
        assertThat(mock.received).hasSize(1);

        // AND a second click changes nothing and says who decided
        HttpResponse<String> again = postForm(link, form);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.body()).contains("alice@example.com");
        assertThat(mock.received).hasSize(1);
        JsonNode rec = recording(sessionId);
        assertThat(rec.path("approval").toString()).contains("requested").contains("approved")
                .contains("alice@example.com");
    }

    @Test
    void tamperedApprovalLink_getsTheGenericRefusal_andNothingChanges() throws Exception {
        HttpResponseFor<Message> raw = client.messages().withRawResponse().create(params("big job", 9000));
        String sessionId = raw.headers().values("x-policygate-session-id").get(0);
        String link = linkFromOutbox(sessionId);
        String tampered = link.replace("alice%40example.com", "mallory%40example.com");
        HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(tampered)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(403);
        assertThat(page.body()).contains("This approval link is not valid.");
        HttpResponse<String> unknown = get("/approvals/AAAAAAAAAAAAAAAAAAAAAA?approver=a&exp=1&sig=x", null);
        assertThat(unknown.statusCode()).isEqualTo(403);
        assertThat(unknown.body()).contains("This approval link is not valid.");
        assertThat(JSON.readTree(get("/v1/sessions/" + sessionId, devKey).body()).path("status").asText())
                .isEqualTo("PENDING_APPROVAL");
    }

    private static String linkFromOutbox(String sessionId) throws IOException {
        // the console shows each link; the newest one belongs to the newest approval
        Matcher m = Pattern.compile("approval needed from alice@example.com: (\\S+)").matcher(console.toString());
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        assertThat(last).as("approval link printed for " + sessionId).isNotNull();
        try (Stream<Path> files = Files.list(data.resolve("outbox"))) {
            assertThat(files.count()).isPositive();
        }
        return last;
    }

    private static Map<String, String> hiddenFields(String html) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("<input type=\"hidden\" name=\"([a-z]+)\" value=\"([^\"]*)\">").matcher(html);
        while (m.find()) {
            out.put(m.group(1), m.group(2).replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'")
                    .replace("&lt;", "<").replace("&gt;", ">"));
        }
        return out;
    }

    private static HttpResponse<String> postForm(String link, Map<String, String> form) throws Exception {
        String body = form.entrySet().stream().map(e -> e.getKey() + "="
                + java.net.URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        URI u = URI.create(link);
        return HTTP.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + u.getPath()))
                .header("content-type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    // ------------------------------------------------------------------ bad input and failures

    @Test
    void malformedJson_isA400_withASessionId_andIsRecorded() throws Exception {
        HttpResponse<String> r = post("/v1/messages", devKey, "{\"model\": \"claude-sonnet-4-5\", ");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("type").asText()).isEqualTo("invalid_request_error");
        String id = r.headers().firstValue("x-policygate-session-id").orElseThrow();
        assertThat(recording(id).path("status").asText()).isEqualTo("INVALID");
    }

    @Test
    void badInputs_getTheRightAnthropicShaped4xx() throws Exception {
        String ok = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        assertThat(post("/v1/messages", devKey, "{\"model\":5,\"max_tokens\":5,\"messages\":[]}").statusCode())
                .isEqualTo(400);
        assertThat(post("/v1/messages", devKey, ok.replace("claude-sonnet-4-5", "gpt-4o")).statusCode())
                .isEqualTo(404);
        assertThat(post("/v1/messages", "pgk_not-a-real-key", ok).statusCode()).isEqualTo(401);
        assertThat(post("/v1/messages", devKey, "{\"pad\":\"" + "a".repeat(6 * 1024 * 1024) + "\"}").statusCode())
                .isEqualTo(413);
        byte[] invalidUtf8 = ok.replace("\"x\"", "\"\u0001\"").getBytes(StandardCharsets.UTF_8);
        invalidUtf8[invalidUtf8.length - 8] = (byte) 0xC3;
        HttpResponse<String> bad = HTTP.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/v1/messages"))
                .header("x-api-key", devKey).POST(HttpRequest.BodyPublishers.ofByteArray(invalidUtf8)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("UTF-8");
        assertThat(mock.received).isEmpty();
    }

    @Test
    void unknownKey_throwsTheSdkAuthenticationError_andNeverEchoesIt() {
        AnthropicClient stranger = sdk("pgk_" + "x".repeat(43));
        assertThatThrownBy(() -> stranger.messages().create(params("hi", 5)))
                .isInstanceOfSatisfying(UnauthorizedException.class,
                        e -> assertThat(e.getMessage()).doesNotContain("xxxxxxxx"));
    }

    @Test
    void upstreamOverloaded_becomesA529_andTheSessionIsRecordedAsFailed() throws Exception {
        mock.mode.set(MockAnthropic.Mode.STATUS_529);
        HttpResponse<String> r = post("/v1/messages", devKey,
                "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r.statusCode()).isEqualTo(529);
        assertThat(JSON.readTree(r.body()).path("error").path("type").asText()).isEqualTo("overloaded_error");
        assertThat(recording(r.headers().firstValue("x-policygate-session-id").orElseThrow()).path("status").asText())
                .isEqualTo("FAILED");
    }

    @Test
    void upstreamRejectingTheGatewayKey_isA502_notTheCallersAuthError() throws Exception {
        mock.mode.set(MockAnthropic.Mode.BAD_KEY);
        assertThatThrownBy(() -> client.messages().create(params("hi", 5)))
                .isInstanceOfSatisfying(AnthropicServiceException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(502);
                    assertThat(e.getMessage()).doesNotContain(UPSTREAM_KEY);
                });
    }

    @Test
    void upstreamCredential_isNeverReturnedLoggedOrRecorded() throws Exception {
        client.messages().create(params("hello", 5));
        assertThat(console.toString()).doesNotContain(UPSTREAM_KEY);
        assertThat(allRecordedText()).doesNotContain(UPSTREAM_KEY).doesNotContain(devKey);
    }

    // ------------------------------------------------------------------ keys, models, sessions

    @Test
    void keyCreatedWhileTheServerRuns_worksWithoutARestart_alsoAsABearerToken() throws Exception {
        String fresh = createKey("newcomer", Set.of("developers"), null);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/v1/messages"))
                .header("authorization", "Bearer " + fresh).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":5,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
    }

    @Test
    void modelsAndCountTokens_passThroughUnderPolicy() throws Exception {
        HttpResponse<String> models = get("/v1/models", devKey);
        assertThat(models.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(models.body()).path("data").size()).isEqualTo(2);
        long tokens = client.messages().countTokens(com.anthropic.models.messages.MessageCountTokensParams.builder()
                .model("claude-sonnet-4-5").addUserMessage("count me").build()).inputTokens();
        assertThat(tokens).isPositive();
        assertThat(mock.received.stream().map(MockAnthropic.Received::path))
                .contains("/v1/models", "/v1/messages/count_tokens");
    }

    @Test
    void sessionList_showsOwnSessionsToUsers_andAllToAuditors() throws Exception {
        client.messages().create(params("for the list", 5));
        JsonNode mine = JSON.readTree(get("/v1/sessions?limit=200", devKey).body());
        assertThat(mine.path("data").size()).isPositive();
        mine.path("data").forEach(s -> assertThat(s.path("principal").asText()).isEqualTo("dev"));
        JsonNode all = JSON.readTree(get("/v1/sessions?limit=200&principal=dev&decision=allow", auditorKey).body());
        assertThat(all.path("data").size()).isPositive();
        assertThat(get("/v1/sessions?status=bogus", devKey).statusCode()).isEqualTo(400);
        assertThat(get("/v1/sessions/01ARZ3NDEKTSV4RRFFQ69G5FAV", devKey).statusCode()).isEqualTo(404);
    }

    @Test
    void recordingRoute_returnsTheMaskedExchange_toTheOwnerAndAuditors_butNotToOthers() throws Exception {
        HttpResponseFor<Message> raw = client.messages().withRawResponse().create(params("note for hal@example.com", 20));
        String id = raw.headers().values("x-policygate-session-id").get(0);
        JsonNode own = JSON.readTree(get("/v1/sessions/" + id + "/recording", devKey).body());
        assertThat(own.path("session_id").asText()).isEqualTo(id);
        assertThat(own.toString()).contains("[EMAIL]").doesNotContain("hal@example.com");
        assertThat(get("/v1/sessions/" + id + "/recording", auditorKey).statusCode()).isEqualTo(200);
        String stranger = createKey("stranger", Set.of("developers"), null);
        assertThat(get("/v1/sessions/" + id + "/recording", stranger).statusCode()).isEqualTo(404);
    }

    @Test
    void unknownRoute_isA404_thatIsStillRecorded() throws Exception {
        HttpResponse<String> r = get("/v1/nothing-here", devKey);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(recording(r.headers().firstValue("x-policygate-session-id").orElseThrow()).path("status").asText())
                .isEqualTo("INVALID");
    }


}
