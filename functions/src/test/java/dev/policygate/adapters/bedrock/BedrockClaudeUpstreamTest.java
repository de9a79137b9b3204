package dev.policygate.adapters.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.policygate.core.json.Json;
import dev.policygate.core.upstream.UpstreamException;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.DefaultRetryStrategy;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Bedrock adapter against a mock bedrock-runtime endpoint on 127.0.0.1, through the real SDK client. */
class BedrockClaudeUpstreamTest {
    private static final String MESSAGE = "{\"id\":\"msg_bdrk_1\",\"type\":\"message\",\"role\":\"assistant\","
            + "\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[{\"type\":\"text\",\"text\":\"Hello there\"},"
            + "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"lookup\",\"input\":{\"q\":\"x\"}}],"
            + "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":7}}";

    /** One request the mock received. */
    record Seen(String method, String path, Map<String, List<String>> headers, String body) {
    }

    private HttpServer server;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private volatile String errorType;
    private volatile String reply = MESSAGE;
    private BedrockRuntimeClient client;

    @BeforeEach
    void startMock() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
        client = clientFor(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    }

    @AfterEach
    void stopMock() {
        server.stop(0);
        client.close();
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        seen.add(new Seen(ex.getRequestMethod(), URLDecoder.decode(ex.getRequestURI().getRawPath(),
                StandardCharsets.UTF_8), Map.copyOf(ex.getRequestHeaders()), new String(body, StandardCharsets.UTF_8)));
        byte[] out = reply.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("content-type", "application/json");
        ex.getResponseHeaders().add("x-amzn-RequestId", "req-bedrock-1");
        if (errorType != null) {
            ex.getResponseHeaders().add("x-amzn-ErrorType", errorType);
        }
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
        ex.close();
    }

    private static BedrockRuntimeClient clientFor(URI endpoint) {
        return BedrockRuntimeClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(endpoint)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create("test-access-key", "test-secret-key")))
                .httpClient(UrlConnectionHttpClient.builder().build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(DefaultRetryStrategy.doNotRetry()).build())
                .build();
    }

    private BedrockClaudeUpstream upstream() {
        return new BedrockClaudeUpstream(client, new BedrockModelIds("us.",
                Map.of("claude-sonnet-4-5", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")), Duration.ofSeconds(10));
    }

    private static UpstreamRequest messages(String body, boolean stream, Map<String, String> headers) {
        return new UpstreamRequest("POST", "/v1/messages", body.getBytes(StandardCharsets.UTF_8), headers, stream);
    }

    private static String read(UpstreamResponse r) throws IOException {
        try (r) {
            return new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void messages_invokesTheMappedModel_withTheBedrockBody_signedWithSigV4() throws Exception {
        UpstreamResponse r = upstream().send(messages("{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":64,"
                + "\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", false,
                Map.of("anthropic-version", "2023-06-01", "anthropic-beta", "tools-2024-05-16, output-128k-2025-02-19")));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.header("request-id")).isEqualTo("req-bedrock-1");
        assertThat(read(r)).isEqualTo(MESSAGE);
        Seen s = seen.get(0);
        assertThat(s.method()).isEqualTo("POST");
        assertThat(s.path()).isEqualTo("/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke");
        JsonNode sent = Json.mapper().readTree(s.body());
        assertThat(sent.get("anthropic_version").asText()).isEqualTo("bedrock-2023-05-31");
        assertThat(sent.has("model")).isFalse();
        assertThat(sent.has("stream")).isFalse();
        assertThat(sent.get("max_tokens").asInt()).isEqualTo(64);
        assertThat(sent.get("anthropic_beta").toString()).isEqualTo("[\"tools-2024-05-16\",\"output-128k-2025-02-19\"]");
        String auth = s.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("authorization"))
                .findFirst().orElseThrow().getValue().get(0);
        assertThat(auth).startsWith("AWS4-HMAC-SHA256 Credential=test-access-key/")
                .contains("/us-east-1/bedrock/aws4_request");
        assertThat(s.headers().keySet()).noneMatch(h -> h.equalsIgnoreCase("x-api-key"));
    }

    @Test
    void streamRequest_isRelayedAsAnthropicServerSentEvents_inTheExactOrder() throws Exception {
        UpstreamResponse r = upstream().send(messages("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":64,"
                + "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", true, Map.of()));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("text/event-stream");
        String sse = read(r);
        List<String> events = new ArrayList<>();
        List<JsonNode> data = new ArrayList<>();
        for (String frame : sse.split("\n\n")) {
            String[] lines = frame.split("\n");
            assertThat(lines[0]).startsWith("event: ");
            assertThat(lines[1]).startsWith("data: ");
            events.add(lines[0].substring(7));
            data.add(Json.mapper().readTree(lines[1].substring(6)));
        }
        assertThat(events).containsExactly("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop");
        assertThat(data.get(0).at("/message/content").size()).isZero();
        assertThat(data.get(0).at("/message/usage/input_tokens").asInt()).isEqualTo(12);
        assertThat(data.get(3).at("/delta/type").asText()).isEqualTo("text_delta");
        assertThat(data.get(3).at("/delta/text").asText()).isEqualTo("Hello there");
        assertThat(data.get(5).at("/content_block/name").asText()).isEqualTo("lookup");
        assertThat(data.get(6).at("/delta/type").asText()).isEqualTo("input_json_delta");
        assertThat(Json.mapper().readTree(data.get(6).at("/delta/partial_json").asText()).get("q").asText())
                .isEqualTo("x");
        assertThat(data.get(8).at("/delta/stop_reason").asText()).isEqualTo("tool_use");
        assertThat(data.get(8).at("/usage/output_tokens").asInt()).isEqualTo(7);
        // Bedrock was asked without the stream flag: the alias was mapped by the override
        assertThat(seen.get(0).path()).isEqualTo("/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke");
        assertThat(seen.get(0).body()).doesNotContain("\"stream\"");
    }

    @Test
    void throttling_becomesAnthropicRateLimitError() throws Exception {
        status = 429;
        errorType = "ThrottlingException";
        reply = "{\"message\":\"Too many requests, please wait before trying again.\"}";

        UpstreamResponse r = upstream().send(messages("{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":8,"
                + "\"messages\":[]}", false, Map.of()));

        assertThat(r.status()).isEqualTo(429);
        JsonNode err = Json.mapper().readTree(read(r));
        assertThat(err.get("type").asText()).isEqualTo("error");
        assertThat(err.at("/error/type").asText()).isEqualTo("rate_limit_error");
        assertThat(err.at("/error/message").asText()).contains("Too many requests");
        assertThat(seen).hasSize(1);
    }

    @Test
    void validationError_becomesInvalidRequestError() throws Exception {
        status = 400;
        errorType = "ValidationException";
        reply = "{\"message\":\"messages: at least one message is required\"}";

        UpstreamResponse r = upstream().send(messages("{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":8,"
                + "\"messages\":[]}", false, Map.of()));

        assertThat(r.status()).isEqualTo(400);
        assertThat(Json.mapper().readTree(read(r)).at("/error/type").asText()).isEqualTo("invalid_request_error");
    }

    @Test
    void unmappedModel_isNotFound_withoutCallingBedrock() throws Exception {
        UpstreamResponse r = upstream().send(messages("{\"model\":\"claude-opus-latest\",\"max_tokens\":8,"
                + "\"messages\":[]}", false, Map.of()));

        assertThat(r.status()).isEqualTo(404);
        assertThat(Json.mapper().readTree(read(r)).at("/error/type").asText()).isEqualTo("not_found_error");
        assertThat(seen).isEmpty();
    }

    @Test
    void countTokens_usesCountTokensOnTheFoundationModel() throws Exception {
        reply = "{\"inputTokens\":42}";

        UpstreamResponse r = upstream().send(new UpstreamRequest("POST", "/v1/messages/count_tokens",
                "{\"model\":\"claude-sonnet-4-5-20250929\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
                        .getBytes(StandardCharsets.UTF_8), Map.of(), false));

        assertThat(r.status()).isEqualTo(200);
        assertThat(Json.mapper().readTree(read(r)).get("input_tokens").asInt()).isEqualTo(42);
        assertThat(seen.get(0).path()).isEqualTo("/model/anthropic.claude-sonnet-4-5-20250929-v1:0/count-tokens");
        // the InvokeModel body travels base64-encoded inside the CountTokens input
        String inner = new String(java.util.Base64.getDecoder().decode(Json.mapper().readTree(seen.get(0).body())
                .at("/input/invokeModel/body").asText()), StandardCharsets.UTF_8);
        assertThat(Json.mapper().readTree(inner).get("anthropic_version").asText()).isEqualTo("bedrock-2023-05-31");
        assertThat(inner).doesNotContain("\"model\"");
    }

    @Test
    void models_listsOnlyTheMappedAliases_withoutCallingBedrock() throws Exception {
        UpstreamResponse r = upstream().send(new UpstreamRequest("GET", "/v1/models?limit=20", null, Map.of(), false));

        assertThat(r.status()).isEqualTo(200);
        assertThat(Json.mapper().readTree(read(r)).at("/data/0/id").asText()).isEqualTo("claude-sonnet-4-5");
        assertThat(seen).isEmpty();
    }

    @Test
    void closedPort_isAConnectFailure_andAPassedDeadline_isATimeout() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        try (BedrockRuntimeClient dead = clientFor(URI.create("http://127.0.0.1:" + closed))) {
            BedrockClaudeUpstream u = new BedrockClaudeUpstream(dead, BedrockModelIds.withPrefix(""),
                    Duration.ofSeconds(5));
            assertThatThrownBy(() -> u.send(messages("{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":8,"
                    + "\"messages\":[]}", false, Map.of())))
                    .isInstanceOfSatisfying(UpstreamException.class,
                            e -> assertThat(e.kind()).isEqualTo(UpstreamException.Kind.CONNECT));
        }
        assertThatThrownBy(() -> upstream().send(new UpstreamRequest("POST", "/v1/messages",
                "{}".getBytes(StandardCharsets.UTF_8), Map.of(), false, Instant.now().minusSeconds(1))))
                .isInstanceOfSatisfying(UpstreamException.class,
                        e -> assertThat(e.kind()).isEqualTo(UpstreamException.Kind.TIMEOUT));
    }

    @Test
    void modelIds_mapDatedIds_passBedrockIds_andRefuseEverythingElse() {
        BedrockModelIds ids = BedrockModelIds.withPrefix("eu.");
        assertThat(ids.bedrockId("claude-haiku-4-5-20251001")).contains("eu.anthropic.claude-haiku-4-5-20251001-v1:0");
        assertThat(ids.bedrockId("global.anthropic.claude-sonnet-4-5-20250929-v1:0"))
                .contains("global.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assertThat(ids.bedrockId("claude-sonnet-4-5")).isEmpty();
        assertThat(ids.bedrockId("meta.llama3-70b-instruct-v1:0")).isEmpty();
        assertThat(ids.bedrockId("../../other")).isEmpty();
        assertThat(BedrockModelIds.foundationModel("us.anthropic.claude-x-20250101-v1:0"))
                .isEqualTo("anthropic.claude-x-20250101-v1:0");
        assertThat(BedrockClaudeUpstream.create("eu-west-1", "eu.").describe())
                .isEqualTo("bedrock-runtime eu-west-1 profile eu.");
    }
}
