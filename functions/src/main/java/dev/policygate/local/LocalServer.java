package dev.policygate.local;

import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.gateway.ResponseSink;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The local HTTP server (Jetty 12 core, HTTP/1.1): translates Jetty requests to
 * {@link GatewayRequest} and the {@link GatewayResponse} back, and nothing else. A request body is
 * read up to the configured limit and never buffered beyond it; streamed bodies go out event by
 * event, one socket write per {@link ResponseSink#flush()}.
 *
 * <p>Limits: request threads block on the gateway (upstream calls included), so {@code threads}
 * bounds the requests in progress; further requests wait in Jetty's queue.
 */
public final class LocalServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalServer.class.getName());
    private static final int MAX_HEADER_VALUE = 16 * 1024;
    private static final int MAX_REQUEST_HEADERS_BYTES = 64 * 1024;
    private static final long MAX_DRAIN = 64L * 1024 * 1024;
    // one acceptor and one selector suit these 2-core machines; the pool also holds them
    private static final int ACCEPTORS = 1;
    private static final int SELECTORS = 1;
    private static final int POOL_OVERHEAD = ACCEPTORS + SELECTORS + 2;
    /** Held so that its level stays: Jetty's start-up banners are INFO; its warnings still show. */
    private static final Logger JETTY_LOG = Logger.getLogger("org.eclipse.jetty");
    static {
        if (JETTY_LOG.getLevel() == null) {
            JETTY_LOG.setLevel(Level.WARNING);
        }
    }

    private final Server server;
    private final ServerConnector connector;
    private final Function<GatewayRequest, GatewayResponse> gateway;
    private final int maxBodyBytes;

    public LocalServer(Function<GatewayRequest, GatewayResponse> gateway, String host, int port, int threads, int maxBodyBytes) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        this.gateway = gateway;
        this.maxBodyBytes = maxBodyBytes;
        QueuedThreadPool pool = new QueuedThreadPool(threads + POOL_OVERHEAD, Math.min(8, threads + POOL_OVERHEAD));
        pool.setName("policygate-http");
        pool.setDaemon(true);
        this.server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setSendDateHeader(true);
        http.setRequestHeaderSize(MAX_REQUEST_HEADERS_BYTES);
        this.connector = new ServerConnector(server, ACCEPTORS, SELECTORS, new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        connector.setAcceptQueueSize(1024);
        // small responses are written whole; without TCP_NODELAY the client's delayed ACK adds ~40 ms
        connector.setAcceptedTcpNoDelay(true);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                LocalServer.this.handle(request, response, callback);
                return true;
            }
        });
        try {
            // bind now, as the JDK server did: the port is known before start()
            connector.open();
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot bind " + host + ":" + port, e);
        }
    }

    public void start() {
        try {
            server.start();
        } catch (Exception e) {
            throw new IllegalStateException("the local server did not start", e);
        }
    }

    public int port() {
        return connector.getLocalPort();
    }

    private void handle(Request request, Response response, Callback callback) {
        GatewayResponse resp;
        try {
            resp = gateway.apply(toRequest(request));
        } catch (IOException e) {
            LOG.log(Level.FINE, "client connection ended early", e);
            callback.failed(e);
            return;
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "unexpected server error " + e.getClass().getName(), e);
            // status only: the error page never carries the exception's message
            Response.writeError(request, response, callback, 500);
            return;
        }
        response.setStatus(resp.status());
        resp.headers().forEach((k, v) -> response.getHeaders().put(k, v));
        if (!resp.streaming()) {
            byte[] body = resp.body();
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Long.toString(body.length));
            response.write(true, body.length == 0 ? null : ByteBuffer.wrap(body), callback);
            return;
        }
        StreamSink sink = new StreamSink(response);
        try {
            resp.streamingBody().writeTo(sink);
            sink.finish(callback);
        } catch (IOException e) {
            LOG.log(Level.FINE, "client connection ended early", e);
            callback.failed(e);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "unexpected server error while streaming " + e.getClass().getName(), e);
            callback.failed(e);
        }
    }

    /**
     * Collects what the core writes between flushes and sends it as one blocking write per flush,
     * so that each SSE event leaves in one TCP segment and the first one carries the headers.
     */
    private static final class StreamSink implements ResponseSink {
        private final Response response;
        private byte[] pending = new byte[8 * 1024];
        private int size;
        private boolean failed;

        StreamSink(Response response) {
            this.response = response;
        }

        @Override
        public void write(byte[] bytes) throws IOException {
            if (failed) {
                throw new IOException("the client connection is gone");
            }
            if (size + bytes.length > pending.length) {
                byte[] bigger = new byte[Math.max(pending.length * 2, size + bytes.length)];
                System.arraycopy(pending, 0, bigger, 0, size);
                pending = bigger;
            }
            System.arraycopy(bytes, 0, pending, size, bytes.length);
            size += bytes.length;
        }

        @Override
        public void flush() throws IOException {
            if (failed) {
                throw new IOException("the client connection is gone");
            }
            if (size == 0) {
                return;
            }
            // the buffer is handed to Jetty until the blocking write returns, then reused
            try (Blocker.Callback done = Blocker.callback()) {
                response.write(false, ByteBuffer.wrap(pending, 0, size), done);
                done.block();
            } catch (IOException e) {
                failed = true;
                throw e;
            } finally {
                size = 0;
            }
        }

        void finish(Callback callback) {
            response.write(true, size == 0 ? null : ByteBuffer.wrap(pending, 0, size), callback);
        }
    }

    private GatewayRequest toRequest(Request request) throws IOException {
        Map<String, String> headers = new HashMap<>();
        for (HttpField f : request.getHeaders()) {
            String name = f.getLowerCaseName();
            String v = f.getValue();
            if (name != null && v != null) {
                headers.putIfAbsent(name, v.length() > MAX_HEADER_VALUE ? v.substring(0, MAX_HEADER_VALUE) : v);
            }
        }
        long length = request.getLength();
        boolean tooLarge = false;
        byte[] body;
        InputStream in = Request.asInputStream(request);
        if (length > maxBodyBytes) {
            tooLarge = true;
            body = new byte[0];
            drainUnlessContinueExpected(request, in);
        } else if (length >= 0) {
            body = new byte[(int) length];
            int off = 0;
            int n;
            while (off < body.length && (n = in.read(body, off, body.length - off)) != -1) {
                off += n;
            }
            if (off < body.length) {
                throw new IOException("the request body ended early");
            }
        } else {
            // chunked: read until the limit, and no further than one byte past it
            byte[] buf = new byte[Math.min(16 * 1024, maxBodyBytes + 1)];
            int size = 0;
            int n;
            while ((n = in.read(buf, size, Math.min(buf.length, maxBodyBytes + 1) - size)) != -1) {
                size += n;
                if (size > maxBodyBytes) {
                    tooLarge = true;
                    break;
                }
                if (size == buf.length) {
                    byte[] bigger = new byte[(int) Math.min((long) maxBodyBytes + 1, buf.length * 2L)];
                    System.arraycopy(buf, 0, bigger, 0, size);
                    buf = bigger;
                }
            }
            if (tooLarge) {
                body = new byte[0];
                drainUnlessContinueExpected(request, in);
            } else {
                body = java.util.Arrays.copyOf(buf, size);
            }
        }
        HttpURI uri = request.getHttpURI();
        return new GatewayRequest(request.getMethod().toUpperCase(Locale.ROOT), uri.getDecodedPath(),
                parseQuery(uri.getQuery()), headers, body, tooLarge, remoteAddress(request));
    }

    private static String remoteAddress(Request request) {
        SocketAddress a = request.getConnectionMetaData().getRemoteSocketAddress();
        if (a instanceof InetSocketAddress && ((InetSocketAddress) a).getAddress() != null) {
            return ((InetSocketAddress) a).getAddress().getHostAddress();
        }
        return Request.getRemoteAddr(request);
    }

    /**
     * Reads and discards the rest of an oversized body (up to {@link #MAX_DRAIN} bytes), so that
     * the client receives the 413 instead of a connection reset while it is still sending. A
     * client that waits for {@code 100 Continue} has sent nothing yet: it gets the 413 at once and
     * the connection is closed.
     */
    private static void drainUnlessContinueExpected(Request request, InputStream in) throws IOException {
        if (request.getHeaders().contains(HttpHeader.EXPECT, HttpHeaderValue.CONTINUE.asString())) {
            return;
        }
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
        try {
            server.stop();
            // a server that was bound but never started still holds its port
            connector.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "the local server did not stop cleanly", e);
        }
    }
}
