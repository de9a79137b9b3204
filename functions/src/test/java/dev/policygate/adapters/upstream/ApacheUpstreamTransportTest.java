package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Apache HttpClient 5 as the upstream client: a reply read to its stated length, or an empty one
 * left unread, gives its connection back for the next exchange, on a keep-alive upstream on
 * loopback that counts the connections it accepts.
 */
class ApacheUpstreamTransportTest {
    private ServerSocket server;
    private final AtomicInteger connections = new AtomicInteger();
    private final ExecutorService workers = Executors.newCachedThreadPool();

    @BeforeEach
    void start() throws IOException {
        server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        workers.submit(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    connections.incrementAndGet();
                    workers.submit(() -> serve(socket));
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    /** HTTP/1.1 keep-alive: for each request, "hello" after a POST to /hello, an empty body otherwise. */
    private void serve(Socket socket) {
        try (socket; BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                StandardCharsets.ISO_8859_1)); OutputStream out = socket.getOutputStream()) {
            String line;
            while ((line = in.readLine()) != null) {
                boolean hello = line.contains("/hello");
                int length = 0;
                while ((line = in.readLine()) != null && !line.isEmpty()) {
                    if (line.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(line.substring(15).trim());
                    }
                }
                in.skip(length);
                String body = hello ? "hello" : "";
                out.write(("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: " + body.length()
                        + "\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
        } catch (IOException gone) {
            // the client closed the connection
        }
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        workers.shutdownNow();
    }

    private UpstreamResponse send(HttpClaudeUpstream upstream, String path) throws Exception {
        return upstream.send(new UpstreamRequest("POST", path, "{}".getBytes(StandardCharsets.UTF_8), Map.of(),
                false));
    }

    @Test
    void replies_giveTheirConnectionBack_whenReadToTheirLengthOrEmpty() throws Exception {
        // GIVEN the Apache client against a keep-alive upstream
        HttpClaudeUpstream upstream = new HttpClaudeUpstream(URI.create("http://127.0.0.1:" + server.getLocalPort()),
                () -> "k", Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(10),
                HttpClaudeUpstream.Client.APACHE);

        // WHEN replies are read to their stated length without waiting for the end of the stream,
        // or are empty and closed unread, one after the other
        for (int i = 0; i < 5; i++) {
            UpstreamResponse hello = send(upstream, "/hello");
            try (InputStream body = hello.body()) {
                assertThat(new String(body.readNBytes(5), StandardCharsets.UTF_8)).isEqualTo("hello");
            }
            UpstreamResponse empty = send(upstream, "/empty");
            empty.body().close();
            assertThat(empty.status()).isEqualTo(200);
        }

        // THEN all ten exchanges went over one connection
        assertThat(connections.get()).isEqualTo(1);
    }

    @Test
    void aReplyClosedBeforeItsEnd_dropsItsConnection() throws Exception {
        // GIVEN the Apache client against a keep-alive upstream
        HttpClaudeUpstream upstream = new HttpClaudeUpstream(URI.create("http://127.0.0.1:" + server.getLocalPort()),
                () -> "k", Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(10),
                HttpClaudeUpstream.Client.APACHE);

        // WHEN a reply is closed after part of its body, then another exchange follows
        UpstreamResponse partial = send(upstream, "/hello");
        try (InputStream body = partial.body()) {
            assertThat(body.read()).isEqualTo('h');
        }
        UpstreamResponse next = send(upstream, "/hello");
        try (InputStream body = next.body()) {
            assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello");
        }

        // THEN the abandoned connection was not reused
        assertThat(connections.get()).isEqualTo(2);
    }
}
