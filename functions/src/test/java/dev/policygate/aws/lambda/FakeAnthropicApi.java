package dev.policygate.aws.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A stand-in for the Anthropic API on 127.0.0.1: answers {@code /v1/messages} with
 * {@code "echo: <last user text>"}, as JSON or as a Server-Sent Events stream cut into small
 * deltas; {@code /v1/messages/count_tokens} and {@code /v1/models} with fixed shapes. Remembers
 * what it received, so that tests can check what left the gateway.
 */
final class FakeAnthropicApi implements AutoCloseable {
    /** One request as the fake received it. */
    record Received(String method, String path, String apiKey, String body) {
    }

    private static final int DELTA_CHARS = 7;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    final List<Received> received = new CopyOnWriteArrayList<>();

    FakeAnthropicApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    Received last() {
        return received.get(received.size() - 1);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String path = ex.getRequestURI().getPath();
            received.add(new Received(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("x-api-key"), body));
            switch (path) {
                case "/v1/models" -> json(ex, models());
                case "/v1/messages/count_tokens" -> json(ex, Json.mapper().createObjectNode()
                        .put("input_tokens", 19));
                case "/v1/messages" -> {
                    JsonNode request = Json.mapper().readTree(body);
                    String prompt = lastUserText(request);
                    if (prompt.equals("take your time")) {
                        // a slow generation (deadline tests): nothing for a few seconds
                        try {
                            Thread.sleep(4_000);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    // "make N words" asks for a long reply (response-size tests) without a long request
                    java.util.regex.Matcher big = java.util.regex.Pattern.compile("make (\\d{1,7}) words").matcher(prompt);
                    String text = big.matches() ? "word ".repeat(Integer.parseInt(big.group(1))) : "echo: " + prompt;
                    if (request.path("stream").asBoolean(false)) {
                        stream(ex, request.path("model").asText(), text);
                    } else {
                        ex.getResponseHeaders().set("request-id", "req_fake_json");
                        json(ex, message(request.path("model").asText(), text));
                    }
                }
                default -> {
                    byte[] b = "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"no\"}}"
                            .getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(404, b.length);
                    ex.getResponseBody().write(b);
                }
            }
        }
    }

    private static ObjectNode models() {
        ObjectNode list = Json.mapper().createObjectNode();
        var data = list.putArray("data");
        for (String id : List.of("claude-sonnet-4-5", "claude-opus-4-1", "not-a-claude-model")) {
            data.addObject().put("type", "model").put("id", id).put("display_name", id)
                    .put("created_at", "2025-09-29T00:00:00Z");
        }
        list.put("has_more", false).put("first_id", "claude-sonnet-4-5").put("last_id", "not-a-claude-model");
        return list;
    }

    private static ObjectNode message(String model, String text) {
        ObjectNode m = Json.mapper().createObjectNode();
        m.put("id", "msg_fake_01").put("type", "message").put("role", "assistant").put("model", model);
        m.putArray("content").addObject().put("type", "text").put("text", text);
        m.put("stop_reason", "end_turn").putNull("stop_sequence");
        m.putObject("usage").put("input_tokens", 21).put("output_tokens", 17);
        return m;
    }

    private static void stream(HttpExchange ex, String model, String text) throws IOException {
        ex.getResponseHeaders().set("content-type", "text/event-stream");
        ex.getResponseHeaders().set("request-id", "req_fake_sse");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        ObjectNode start = message(model, "");
        start.putArray("content");
        start.putNull("stop_reason");
        ((ObjectNode) start.get("usage")).put("output_tokens", 1);
        ObjectNode messageStart = Json.mapper().createObjectNode().put("type", "message_start");
        messageStart.set("message", start);
        event(out, "message_start", messageStart);
        event(out, "content_block_start", Json.mapper().readTree(
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
        event(out, "ping", Json.mapper().readTree("{\"type\":\"ping\"}"));
        for (int i = 0; i < text.length(); i += DELTA_CHARS) {
            ObjectNode delta = Json.mapper().createObjectNode().put("type", "content_block_delta").put("index", 0);
            delta.putObject("delta").put("type", "text_delta")
                    .put("text", text.substring(i, Math.min(text.length(), i + DELTA_CHARS)));
            event(out, "content_block_delta", delta);
        }
        event(out, "content_block_stop", Json.mapper().readTree("{\"type\":\"content_block_stop\",\"index\":0}"));
        event(out, "message_delta", Json.mapper().readTree("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                + "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":17}}"));
        event(out, "message_stop", Json.mapper().readTree("{\"type\":\"message_stop\"}"));
    }

    private static void event(OutputStream out, String name, JsonNode data) throws IOException {
        out.write(("event: " + name + "\ndata: " + Json.mapper().writeValueAsString(data) + "\n\n")
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String lastUserText(JsonNode request) {
        String text = "";
        for (JsonNode m : request.path("messages")) {
            JsonNode c = m.path("content");
            if (c.isTextual()) {
                text = c.asText();
            } else {
                StringBuilder b = new StringBuilder();
                c.forEach(block -> b.append(block.path("text").asText("")));
                text = b.toString();
            }
        }
        return text;
    }

    private static void json(HttpExchange ex, JsonNode body) throws IOException {
        byte[] b = Json.mapper().writeValueAsBytes(body);
        ex.getResponseHeaders().set("content-type", "application/json");
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
