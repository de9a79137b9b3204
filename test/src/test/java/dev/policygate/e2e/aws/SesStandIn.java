package dev.policygate.e2e.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local stand-in for Amazon SES v2 on 127.0.0.1: accepts {@code SendEmail}
 * ({@code POST /v2/email/outbound-emails}, REST-JSON) from the real {@code SesV2Client} and
 * records each message. It checks nothing but the shape; anything else is a 404.
 */
final class SesStandIn implements AutoCloseable {
    /** One sent message, as SES got it. */
    record Sent(String from, List<String> to, String subject, String text, String html) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final AtomicInteger ids = new AtomicInteger();
    final List<Sent> sent = new CopyOnWriteArrayList<>();
    volatile boolean failing;

    SesStandIn() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            if (!ex.getRequestMethod().equals("POST") || !ex.getRequestURI().getPath().equals("/v2/email/outbound-emails")) {
                reply(ex, 404, "{\"message\":\"not supported by the stand-in\"}");
                return;
            }
            if (failing) {
                reply(ex, 500, "{\"message\":\"injected failure\"}");
                return;
            }
            JsonNode req = JSON.readTree(body);
            JsonNode simple = req.path("Content").path("Simple");
            List<String> to = new java.util.ArrayList<>();
            req.path("Destination").path("ToAddresses").forEach(a -> to.add(a.asText()));
            sent.add(new Sent(req.path("FromEmailAddress").asText(), to, simple.path("Subject").path("Data").asText(),
                    simple.path("Body").path("Text").path("Data").asText(null),
                    simple.path("Body").path("Html").path("Data").asText(null)));
            reply(ex, 200, "{\"MessageId\":\"standin-" + ids.incrementAndGet() + "\"}");
        }
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("content-type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
