package dev.policygate.local;

import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The local server as a translator: what the core sees of a request, and what a client sees of a response. */
class LocalServerTest {
    private LocalServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    private URI start(Function<GatewayRequest, GatewayResponse> gateway, int maxBody) throws Exception {
        server = new LocalServer(gateway, "127.0.0.1", 0, 4, maxBody);
        server.start();
        return URI.create("http://127.0.0.1:" + server.port());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void request_reachesTheCore_withLowerCasedHeaders_decodedQuery_bodyAndLoopbackSource() throws Exception {
        // GIVEN a server whose core captures the request
        AtomicReference<GatewayRequest> seen = new AtomicReference<>();
        URI base = start(req -> {
            seen.set(req);
            return GatewayResponse.json(201, "{\"ok\":true}".getBytes(StandardCharsets.UTF_8)).header("x-policygate-session-id", "s1");
        }, 1024);
        // WHEN a client posts with a query string and mixed-case headers
        HttpResponse<String> resp = http.send(HttpRequest.newBuilder(base.resolve("/v1/sessions?limit=5&q=a%20b"))
                .header("X-Api-Key", "k1").POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")).build(),
                HttpResponse.BodyHandlers.ofString());
        // THEN the core sees it as the adapter contract says, and the client gets status, headers and body
        GatewayRequest req = seen.get();
        assertThat(req.method()).isEqualTo("POST");
        assertThat(req.path()).isEqualTo("/v1/sessions");
        assertThat(req.query()).containsEntry("limit", "5").containsEntry("q", "a b");
        assertThat(req.headers()).containsEntry("x-api-key", "k1");
        assertThat(new String(req.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
        assertThat(req.bodyTooLarge()).isFalse();
        assertThat(req.sourceIp()).isEqualTo("127.0.0.1");
        assertThat(resp.statusCode()).isEqualTo(201);
        assertThat(resp.body()).isEqualTo("{\"ok\":true}");
        assertThat(resp.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(resp.headers().firstValue("x-policygate-session-id")).hasValue("s1");
        assertThat(resp.headers().firstValue("server")).isEmpty();
    }

    @Test
    void body_overTheLimit_reachesTheCoreAsTooLarge_withNoBytes_andTheClientGetsTheCoresAnswer() throws Exception {
        // GIVEN a 16-byte limit
        AtomicReference<GatewayRequest> seen = new AtomicReference<>();
        URI base = start(req -> {
            seen.set(req);
            return GatewayResponse.json(req.bodyTooLarge() ? 413 : 200, "{}".getBytes(StandardCharsets.UTF_8));
        }, 16);
        // WHEN exactly the limit, then one byte more (declared length), then more without a length (chunked)
        int atLimit = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(16))).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode();
        byte[] atLimitBody = seen.get().body();
        int over = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(17))).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode();
        byte[] overBody = seen.get().body();
        int chunked = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[100_000])))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        // THEN the limit passes whole, and more is flagged without its bytes
        assertThat(atLimit).isEqualTo(200);
        assertThat(atLimitBody).hasSize(16);
        assertThat(over).isEqualTo(413);
        assertThat(overBody).isEmpty();
        assertThat(chunked).isEqualTo(413);
        assertThat(seen.get().bodyTooLarge()).isTrue();
    }

    @Test
    void streamedBody_reachesTheClientEventByEvent_beforeTheNextIsWritten() throws Exception {
        // GIVEN a core that writes one event, flushes, and waits until the client has read it
        CountDownLatch firstRead = new CountDownLatch(1);
        URI base = start(req -> GatewayResponse.stream(200, sink -> {
            sink.write("event: message_start\n".getBytes(StandardCharsets.UTF_8));
            sink.write("data: {}\n\n".getBytes(StandardCharsets.UTF_8));
            sink.flush();
            try {
                if (!firstRead.await(5, TimeUnit.SECONDS)) {
                    throw new java.io.IOException("the client never saw the first event");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sink.write("event: message_stop\ndata: {}\n\n".getBytes(StandardCharsets.UTF_8));
            sink.flush();
        }), 1024);
        // WHEN a client reads the stream line by line
        HttpResponse<InputStream> resp = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            // THEN the first event arrives while the core still holds the second
            assertThat(r.readLine()).isEqualTo("event: message_start");
            assertThat(r.readLine()).isEqualTo("data: {}");
            firstRead.countDown();
            assertThat(r.readLine()).isEmpty();
            assertThat(r.readLine()).isEqualTo("event: message_stop");
        }
        assertThat(resp.statusCode()).isEqualTo(200);
        assertThat(resp.headers().firstValue("content-type")).hasValue("text/event-stream; charset=utf-8");
    }

    @Test
    void coreFailure_isAPlain500_withoutTheExceptionsMessage() throws Exception {
        URI base = start(req -> {
            throw new IllegalStateException("secret-internal-detail");
        }, 1024);
        HttpResponse<String> resp = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(resp.statusCode()).isEqualTo(500);
        assertThat(resp.body()).doesNotContain("secret-internal-detail");
    }

    @Test
    void plainHttp11Client_onLoopback_getsAStatusLine() throws Exception {
        start(req -> GatewayResponse.json(200, new byte[0]), 1024);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            OutputStream out = s.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertThat(status).isEqualTo("HTTP/1.1 200 OK");
        }
    }
}
