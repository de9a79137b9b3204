package dev.policygate.local;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.gateway.ResponseSink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The local HTTP server: translates JDK {@code HttpServer} exchanges to {@link GatewayRequest}
 * and back, and nothing else. Streams are written and flushed event by event.
 */
public final class LocalServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalServer.class.getName());
    private static final int MAX_HEADER_VALUE = 16 * 1024;
    private static final long MAX_DRAIN = 64L * 1024 * 1024;
    static {
        // without TCP_NODELAY the JDK server's separate header and body writes meet the client's
        // delayed ACK: about 40 ms added to every small response
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final Function<GatewayRequest, GatewayResponse> gateway;
    private final int maxBodyBytes;

    public LocalServer(Function<GatewayRequest, GatewayResponse> gateway, String host, int port, int threads, int maxBodyBytes) throws IOException {
        this.gateway = gateway;
        this.maxBodyBytes = maxBodyBytes;
        this.server = HttpServer.create(new InetSocketAddress(host, port), 1024);
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "policygate-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    public void start() {
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange http) {
        try (http) {
            GatewayResponse resp = gateway.apply(toRequest(http));
            resp.headers().forEach((k, v) -> http.getResponseHeaders().set(k, v));
            if (resp.streaming()) {
                try {
                    http.sendResponseHeaders(resp.status(), 0);
                } catch (IOException gone) {
                    // run the body against a dead sink: it closes the upstream and records the failure
                    resp.streamingBody().writeTo(new ResponseSink() {
                        @Override
                        public void write(byte[] bytes) throws IOException {
                            throw gone;
                        }

                        @Override
                        public void flush() throws IOException {
                            throw gone;
                        }
                    });
                    return;
                }
                OutputStream out = http.getResponseBody();
                resp.streamingBody().writeTo(new ResponseSink() {
                    @Override
                    public void write(byte[] bytes) throws IOException {
                        out.write(bytes);
                    }

                    @Override
                    public void flush() throws IOException {
                        out.flush();
                    }
                });
            } else {
                byte[] body = resp.body();
                http.sendResponseHeaders(resp.status(), body.length == 0 ? -1 : body.length);
                if (body.length > 0) {
                    http.getResponseBody().write(body);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "client connection ended early", e);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "unexpected server error " + e.getClass().getName(), e);
        }
    }

    private GatewayRequest toRequest(HttpExchange http) throws IOException {
        Map<String, String> headers = new HashMap<>();
        for (Map.Entry<String, List<String>> e : http.getRequestHeaders().entrySet()) {
            if (!e.getValue().isEmpty() && e.getKey() != null) {
                String v = e.getValue().get(0);
                headers.put(e.getKey().toLowerCase(Locale.ROOT), v.length() > MAX_HEADER_VALUE
                        ? v.substring(0, MAX_HEADER_VALUE) : v);
            }
        }
        boolean tooLarge = false;
        byte[] body;
        String declared = headers.get("content-length");
        long length = -1;
        if (declared != null) {
            try {
                length = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
        }
        if (length > maxBodyBytes) {
            tooLarge = true;
            body = new byte[0];
            drain(http.getRequestBody());
        } else {
            ByteArrayOutputStream buf = new ByteArrayOutputStream(length > 0 ? (int) length : 1024);
            InputStream in = http.getRequestBody();
            byte[] chunk = new byte[16 * 1024];
            int n;
            long total = 0;
            while ((n = in.read(chunk)) != -1) {
                total += n;
                if (total > maxBodyBytes) {
                    tooLarge = true;
                    break;
                }
                buf.write(chunk, 0, n);
            }
            body = tooLarge ? new byte[0] : buf.toByteArray();
            if (tooLarge) {
                drain(in);
            }
        }
        String rawQuery = http.getRequestURI().getRawQuery();
        return new GatewayRequest(http.getRequestMethod().toUpperCase(Locale.ROOT), http.getRequestURI().getPath(),
                parseQuery(rawQuery), headers, body, tooLarge, http.getRemoteAddress().getAddress().getHostAddress());
    }

    /**
     * Reads and discards the rest of an oversized body (up to {@link #MAX_DRAIN} bytes), so that
     * the client receives the 413 instead of a connection reset while it is still sending.
     */
    private static void drain(InputStream in) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        long drained = 0;
        int n;
        while (drained < MAX_DRAIN && (n = in.read(chunk)) != -1) {
            drained += n;
        }
    }

    static Map<String, String> parseQuery(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String pair : raw.split("&", 64)) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            try {
                q.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                // a malformed escape: ignore the pair rather than guess
            }
        }
        return q;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
