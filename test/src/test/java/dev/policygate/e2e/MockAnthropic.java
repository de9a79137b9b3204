package dev.policygate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A mock Anthropic upstream on 127.0.0.1: echoes the last user text as "echo: ..." as JSON or
 * as an SSE stream split into small deltas, and can be told to fail. Records what it received.
 */
public final class MockAnthropic implements AutoCloseable {
    public enum Mode { OK, STATUS_500, STATUS_529, STATUS_429, CUT_STREAM, BAD_KEY, STALL }

    public record Received(String path, Map<String, List<String>> headers, String body) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final java.util.concurrent.ExecutorService executor = Executors.newFixedThreadPool(8);
    public final List<Received> received = new CopyOnWriteArrayList<>();
    public final AtomicReference<Mode> mode = new AtomicReference<>(Mode.OK);
    volatile String replyOverride;

    public MockAnthropic() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(new Received(ex.getRequestURI().getPath(), Map.copyOf(ex.getRequestHeaders()), body));
            Mode m = mode.get();
            switch (m) {
                case STATUS_500 -> {
                    send(ex, 500, "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}");
                    return;
                }
                case STATUS_529 -> {
                    send(ex, 529, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
                    return;
                }
                case STATUS_429 -> {
                    ex.getResponseHeaders().set("retry-after", "7");
                    send(ex, 429, "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}");
                    return;
                }
                case BAD_KEY -> {
                    send(ex, 401, "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}");
                    return;
                }
                default -> {
                }
            }
            String path = ex.getRequestURI().getPath();
            if (path.equals("/v1/models")) {
                send(ex, 200, "{\"data\":[{\"type\":\"model\",\"id\":\"claude-sonnet-4-5\",\"display_name\":\"Sonnet\",\"created_at\":\"2025-01-01T00:00:00Z\"},"
                        + "{\"type\":\"model\",\"id\":\"claude-opus-4-1\",\"display_name\":\"Opus\",\"created_at\":\"2025-01-01T00:00:00Z\"}],"
                        + "\"has_more\":false,\"first_id\":\"claude-sonnet-4-5\",\"last_id\":\"claude-opus-4-1\"}");
                return;
            }
            JsonNode req = JSON.readTree(body);
            if (path.equals("/v1/messages/count_tokens")) {
                send(ex, 200, "{\"input_tokens\":" + Math.max(1, body.length() / 4) + "}");
                return;
            }
            if (m == Mode.STALL) {
                stall(ex, req.path("stream").asBoolean(false));
                return;
            }
            String text = replyOverride != null ? replyOverride : "echo: " + lastUserText(req);
            if (req.path("stream").asBoolean(false)) {
                stream(ex, text, m == Mode.CUT_STREAM);
            } else {
                String msg = "{\"id\":\"msg_mock\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
                        + JSON.writeValueAsString(req.path("model").asText()) + ",\"content\":[{\"type\":\"text\",\"text\":"
                        + JSON.writeValueAsString(text) + "}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
                        + "\"usage\":{\"input_tokens\":12,\"output_tokens\":34}}";
                ex.getResponseHeaders().set("request-id", "req_mock_1");
                send(ex, 200, msg);
            }
        }
    }

    /** Sends the headers (and, for a stream, the first events), then goes silent. */
    private static void stall(HttpExchange ex, boolean stream) throws IOException {
        ex.getResponseHeaders().set("content-type", stream ? "text/event-stream" : "application/json");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        if (stream) {
            event(out, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}");
            event(out, "ping", "{\"type\":\"ping\"}");
        } else {
            out.write("{\"id\":".getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        try {
            Thread.sleep(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String lastUserText(JsonNode req) {
        String text = "";
        for (JsonNode m : req.path("messages")) {
            JsonNode c = m.get("content");
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

    private void stream(HttpExchange ex, String text, boolean cut) throws IOException {
        ex.getResponseHeaders().set("content-type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        event(out, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}");
        event(out, "content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        event(out, "ping", "{\"type\":\"ping\"}");
        int chunk = 5;
        for (int i = 0; i < text.length(); i += chunk) {
            String part = text.substring(i, Math.min(text.length(), i + chunk));
            event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
                    + JSON.writeValueAsString(part) + "}}");
            if (cut && i > text.length() / 2) {
                return;
            }
        }
        event(out, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
        event(out, "message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":34}}");
        event(out, "message_stop", "{\"type\":\"message_stop\"}");
    }

    private static void event(OutputStream out, String name, String data) throws IOException {
        out.write(("event: " + name + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("content-type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
