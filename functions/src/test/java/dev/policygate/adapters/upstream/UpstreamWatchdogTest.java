package dev.policygate.adapters.upstream;

import com.sun.net.httpserver.HttpServer;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared sweeper of upstream time limits: an expired limit acts once, a cancelled one never,
 * and exchanges leave nothing watched behind, whether their body is read to the end or abandoned.
 */
class UpstreamWatchdogTest {
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/messages", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] body = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("content-type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void watch_actsOnce_whenExpired_andNeverWhenCancelled() throws InterruptedException {
        // GIVEN a limit that has passed and one that is cancelled before it passes
        CountDownLatch fired = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        UpstreamWatchdog.at(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20), () -> {
            runs.incrementAndGet();
            fired.countDown();
        });
        AtomicInteger cancelledRuns = new AtomicInteger();
        UpstreamWatchdog.Watch cancelled = UpstreamWatchdog.at(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30),
                cancelledRuns::incrementAndGet);
        cancelled.cancel();

        // WHEN the sweeper has passed several times
        assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(UpstreamWatchdog.TICK_MS * 5);

        // THEN the first acted exactly once, and the cancelled one never
        assertThat(runs.get()).isEqualTo(1);
        assertThat(cancelledRuns.get()).isZero();
    }

    @ParameterizedTest
    @EnumSource(HttpClaudeUpstream.Client.class)
    void exchanges_leaveNothingWatched_whetherReadToTheEndOrAbandoned(HttpClaudeUpstream.Client client)
            throws Exception {
        // GIVEN an upstream on loopback and the client under test
        HttpClaudeUpstream upstream = new HttpClaudeUpstream(
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()), () -> "k", Duration.ofSeconds(2),
                Duration.ofSeconds(30), Duration.ofSeconds(30), client);
        int before = UpstreamWatchdog.watched();

        // WHEN 60 replies are read to their end and 20 are closed unread
        for (int i = 0; i < 80; i++) {
            UpstreamResponse response = upstream.send(new UpstreamRequest("POST", "/v1/messages",
                    "{}".getBytes(StandardCharsets.UTF_8), Map.of(), false));
            try (InputStream body = response.body()) {
                if (i < 60) {
                    assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("{\"ok\":true}");
                }
            }
            assertThat(response.status()).isEqualTo(200);
        }

        // THEN no limit is left behind (each exchange watched its header wait and its body, then let go)
        assertThat(UpstreamWatchdog.watched()).isLessThanOrEqualTo(before);
    }
}
