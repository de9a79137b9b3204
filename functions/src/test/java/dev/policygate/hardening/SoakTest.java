package dev.policygate.hardening;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.json.Json;
import dev.policygate.local.FileApiKeyStore;
import dev.policygate.local.LocalGateway;
import dev.policygate.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Load and soak against the local server on loopback: N concurrent clients mix allowed, denied,
 * masked and streaming requests for a fixed time. Asserts that no session is lost (every
 * response's session id is in the index, terminal, with the status the client saw, and the index
 * holds nothing else), that nothing failed beyond the expected denials, that no reply leaked the
 * entity the upstream put in it, and that the heap after GC did not grow. Prints throughput and
 * the latency the gateway adds over a direct call to the same mock upstream.
 *
 * <p>CI runs 30 s with 200 clients. The long run: {@code -Dpolicygate.soak.seconds=600}
 * ({@code policygate.soak.clients} sets the clients), see docs/SECURITY.md.
 */
class SoakTest {
    private static final int SECONDS = Integer.getInteger("policygate.soak.seconds", 30);
    private static final int CLIENTS = Integer.getInteger("policygate.soak.clients", 200);
    private static final String REPLY_TEXT = "Sure. Write to eve@example.com about it.";
    private static final String PEM = "-----BEGIN PRIVATE KEY-----\n" + "A".repeat(64) + "\n-----END PRIVATE KEY-----";

    @TempDir
    Path data;

    enum Kind { ALLOWED, DENIED, MASKED, STREAMING }

    record Outcome(Kind kind, int status, String sessionId, long nanos, String problem) {
    }

    @Test
    void soak_losesNoSession_failsNothingButDenials_andKeepsTheHeapSteady() throws Exception {
        HttpServer mock = mockUpstream();
        String key = ApiKeys.newKey();
        String hash = ApiKeys.hash(key);
        FileApiKeyStore.open(data).put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, "soak", Set.of("developers"),
                "soak@example.com", Instant.now(), false));
        URI upstream = URI.create("http://127.0.0.1:" + mock.getAddress().getPort());
        LocalGateway gw = LocalGateway.start(LocalGateway.Options.defaults(data, Fixtures.root().resolve(
                "cedar-policies")).withPort(0).withUpstream(upstream, "sk-soak-upstream"),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(8)).build();
        try {
            // warm up, then measure the direct baseline on the same mock with the same mix
            runClients(http, upstream.toString(), null, Math.min(CLIENTS, 50), 3, true);
            runClients(http, gw.baseUrl(), key, Math.min(CLIENTS, 50), 3, false);
            List<Outcome> direct = runClients(http, upstream.toString(), null, CLIENTS, Math.max(5, SECONDS / 6), true);
            long heapBefore = heapAfterGc();
            long t0 = System.nanoTime();
            List<Outcome> outcomes = runClients(http, gw.baseUrl(), key, CLIENTS, SECONDS, false);
            double elapsed = (System.nanoTime() - t0) / 1e9;
            long heapAfter = heapAfterGc();
            // unloaded: one client, so the added latency is the gateway's work, not queueing on 2 cores
            List<Outcome> directSolo = runClients(http, upstream.toString(), null, 1, 3, true);
            List<Outcome> gatewaySolo = runClients(http, gw.baseUrl(), key, 1, 3, false);
            List<Outcome> measured = outcomes;
            outcomes = new ArrayList<>(outcomes);
            outcomes.addAll(gatewaySolo);

            // no error beyond the expected denials, and nothing leaked
            List<Outcome> problems = outcomes.stream().filter(o -> o.problem() != null).toList();
            assertThat(problems).as("unexpected outcomes").isEmpty();

            gw.close();
            Map<String, JsonNode> index = readIndex(data.resolve("index.jsonl"));
            Map<String, JsonNode> warmUp = new HashMap<>(index);
            int lost = 0;
            for (Outcome o : outcomes) {
                JsonNode s = index.get(o.sessionId());
                warmUp.remove(o.sessionId());
                if (s == null) {
                    lost++;
                    continue;
                }
                String expected = o.kind() == Kind.DENIED ? "DENIED" : "COMPLETED";
                assertThat(s.path("status").asText()).as(o.toString()).isEqualTo(expected);
                assertThat(s.path("http_status").asInt()).as(o.toString()).isEqualTo(o.status());
            }
            assertThat(lost).as("sessions lost").isZero();
            assertThat(warmUp.values()).as("only the warm-up requests are left over")
                    .allMatch(s -> s.path("status").asText().matches("COMPLETED|DENIED"));
            assertThat(recordings(data)).isEqualTo(index.size());

            Map<Kind, Integer> counts = new java.util.EnumMap<>(Kind.class);
            measured.forEach(o -> counts.merge(o.kind(), 1, Integer::sum));
            System.out.printf("SOAK clients=%d seconds=%.1f requests=%d (%s) throughput=%.0f req/s lost=%d%n",
                    CLIENTS, elapsed, measured.size(), counts, measured.size() / elapsed, lost);
            System.out.printf("SOAK loaded   latency ms: direct p50=%.1f p99=%.1f | gateway p50=%.1f p99=%.1f | added"
                            + " p50=%.1f p99=%.1f%n", pct(direct, 50), pct(direct, 99), pct(measured, 50),
                    pct(measured, 99), pct(measured, 50) - pct(direct, 50), pct(measured, 99) - pct(direct, 99));
            System.out.printf("SOAK unloaded latency ms: direct p50=%.2f p99=%.2f | gateway p50=%.2f p99=%.2f | added"
                            + " p50=%.2f p99=%.2f (%d requests)%n", pct(directSolo, 50), pct(directSolo, 99),
                    pct(gatewaySolo, 50), pct(gatewaySolo, 99), pct(gatewaySolo, 50) - pct(directSolo, 50),
                    pct(gatewaySolo, 99) - pct(directSolo, 99), gatewaySolo.size());
            System.out.printf("SOAK heap after GC: before=%d MB after=%d MB%n", heapBefore >> 20, heapAfter >> 20);
            // the local index keeps one small summary per session in memory (about 1 KB each)
            long allowance = (64L << 20) + outcomes.size() * 2048L;
            assertThat(heapAfter - heapBefore).as("heap growth after GC").isLessThan(allowance);
        } finally {
            gw.close();
            mock.stop(0);
        }
    }

    private static List<Outcome> runClients(HttpClient http, String base, String key, int clients, int seconds,
                                            boolean direct) throws InterruptedException {
        List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        CountDownLatch done = new CountDownLatch(clients);
        AtomicInteger seq = new AtomicInteger();
        for (int c = 0; c < clients; c++) {
            pool.execute(() -> {
                try {
                    while (System.nanoTime() < end) {
                        Kind kind = Kind.values()[seq.getAndIncrement() % 4];
                        if (direct && kind == Kind.DENIED) {
                            continue;
                        }
                        outcomes.add(call(http, base, key, kind));
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        pool.shutdown();
        return new ArrayList<>(outcomes);
    }

    private static Outcome call(HttpClient http, String base, String key, Kind kind) {
        String prompt = switch (kind) {
            case DENIED -> "keep this " + PEM;
            case MASKED -> "my card is 4111 1111 1111 1111, mail me";
            default -> "hello";
        };
        boolean stream = kind == Kind.STREAMING;
        String body = HardeningGateways.messages(stream ? "\"stream\":true," : "", prompt);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/v1/messages"))
                .timeout(Duration.ofSeconds(120)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("x-api-key", key);
        }
        long t0 = System.nanoTime();
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            long nanos = System.nanoTime() - t0;
            String id = r.headers().firstValue("x-policygate-session-id").orElse(null);
            int expected = kind == Kind.DENIED ? 403 : 200;
            String problem = null;
            if (r.statusCode() != expected) {
                problem = "status " + r.statusCode() + ": " + r.body();
            } else if (key != null && id == null) {
                problem = "no session id";
            } else if (key != null && expected == 200 && (r.body().contains("eve@example.com")
                    || !r.body().contains("[EMAIL]"))) {
                problem = "reply not masked: " + r.body();
            } else if (stream && (r.body().contains("event: error") || !r.body().contains("message_stop"))) {
                problem = "stream did not complete: " + r.body();
            }
            return new Outcome(kind, r.statusCode(), id, nanos, problem);
        } catch (IOException e) {
            return new Outcome(kind, 0, null, System.nanoTime() - t0, "I/O " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(kind, 0, null, 0, "interrupted");
        }
    }

    private static double pct(List<Outcome> outcomes, int p) {
        long[] nanos = outcomes.stream().mapToLong(Outcome::nanos).sorted().toArray();
        return nanos.length == 0 ? 0 : nanos[Math.min(nanos.length - 1, (int) Math.ceil(p / 100.0 * nanos.length) - 1)]
                / 1e6;
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static Map<String, JsonNode> readIndex(Path file) throws IOException {
        Map<String, JsonNode> index = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                JsonNode n = Json.mapper().readTree(line);
                index.put(n.path("id").asText(), n);
            }
        }
        return index;
    }

    /** The sessions that have a recording: the distinct session ids of the day files' lines. */
    private static long recordings(Path data) throws IOException {
        Set<String> sessions = new java.util.HashSet<>();
        List<Path> dayFiles;
        try (Stream<Path> files = Files.walk(data.resolve("sessions"))) {
            dayFiles = files.filter(p -> p.getFileName().toString().equals("recordings.jsonl")).toList();
        }
        for (Path day : dayFiles) {
            for (String line : Files.readAllLines(day, StandardCharsets.UTF_8)) {
                sessions.add(Json.mapper().readTree(line).path("session_id").asText());
            }
        }
        return sessions.size();
    }

    // ---- the mock upstream: an immediate reply, JSON or SSE, with an email to mask --------------

    private static HttpServer mockUpstream() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        server.setExecutor(Executors.newFixedThreadPool(32));
        Map<Boolean, byte[]> replies = new ConcurrentHashMap<>();
        replies.put(false, LoopbackClaude.MESSAGE.replace("write to eve@example.com", REPLY_TEXT)
                .getBytes(StandardCharsets.UTF_8));
        StringBuilder sse = new StringBuilder();
        SseFixtures.reply("Sure. Write to eve@exa", "mple.com about", " it.").forEach(e -> sse.append(e.encode()));
        replies.put(true, sse.toString().getBytes(StandardCharsets.UTF_8));
        server.createContext("/v1/messages", ex -> respond(ex, replies));
        server.start();
        return server;
    }

    private static void respond(HttpExchange ex, Map<Boolean, byte[]> replies) throws IOException {
        try (ex) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            boolean stream = body.contains("\"stream\":true");
            byte[] reply = replies.get(stream);
            ex.getResponseHeaders().set("content-type", stream ? "text/event-stream" : "application/json");
            // a fresh connection per request: the JDK server closes idle connections beyond its
            // pool of 200, and a POST on such a stale pooled connection fails (never retried, by
            // design); that race is the mock's, see docs/SECURITY.md
            ex.getResponseHeaders().set("connection", "close");
            ex.sendResponseHeaders(200, reply.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(reply);
            }
        }
    }
}
