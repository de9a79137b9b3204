package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamException;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The Anthropic API over HTTPS (or any base URL speaking the Messages API, such as a mock),
 * authenticated with the gateway's own key. The key comes from a supplier so that it can
 * rotate, and it is never logged or returned.
 *
 * <p>The HTTP/1.1 client ({@link Client}) is the JDK's in Lambda. The local jar also carries
 * Apache HttpClient 5 (its default: blocking reads and writes on the request thread, no hand-off
 * to a selector thread; at least as fast as Jetty's in bench runs) and Jetty's client; the system property
 * {@value #CLIENT_PROPERTY} ({@code apache}, {@code jetty} or {@code jdk}) chooses. Jetty reads a
 * connection reset in a body delimited by the connection's end as a normal end, so with it such a
 * cut is caught only by the SSE/JSON framing (the upstream error is then "ended before
 * message_stop", not "failed").
 */
public final class HttpClaudeUpstream implements ClaudeUpstream {
    /** System property choosing the HTTP client: {@code apache}, {@code jetty} or {@code jdk}. */
    public static final String CLIENT_PROPERTY = "policygate.upstream.client";

    /** The HTTP clients a jar may carry. */
    public enum Client {
        /** The JDK's {@code HttpClient}: in every jar. */
        JDK("java.net.http.HttpClient"),
        /** Jetty's client: in the local jar only. */
        JETTY("org.eclipse.jetty.client.HttpClient"),
        /** Apache HttpClient 5, classic: in the local jar only. */
        APACHE("org.apache.hc.client5.http.impl.classic.CloseableHttpClient");

        private final String probe;

        Client(String probe) {
            this.probe = probe;
        }

        /** The client {@value #CLIENT_PROPERTY} names, else {@code fallback}; fails when this jar does not carry it. */
        public static Client chosen(Client fallback) {
            String name = System.getProperty(CLIENT_PROPERTY);
            Client client = fallback;
            if (name != null) {
                try {
                    client = valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException(CLIENT_PROPERTY + " must be apache, jetty or jdk, not: " + name);
                }
            }
            try {
                Class.forName(client.probe, false, HttpClaudeUpstream.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalStateException(CLIENT_PROPERTY + "=" + client.name().toLowerCase(java.util.Locale.ROOT)
                        + ", but this jar does not carry that client");
            }
            return client;
        }
    }
    private final URI baseUrl;
    private final Supplier<String> apiKey;
    private final UpstreamTransport transport;
    private final Client client;
    private final Duration timeout;
    private final Duration idleTimeout;

    /**
     * @param timeout     how long to wait for the response headers
     * @param idleTimeout how long the body may go without a byte (SSE pings arrive far more often)
     */
    public HttpClaudeUpstream(URI baseUrl, Supplier<String> apiKey, Duration connectTimeout, Duration timeout,
                              Duration idleTimeout) {
        this(baseUrl, apiKey, connectTimeout, timeout, idleTimeout, Client.chosen(Client.JDK));
    }

    /** @param client the HTTP client to carry the calls (see {@link Client#chosen}) */
    public HttpClaudeUpstream(URI baseUrl, Supplier<String> apiKey, Duration connectTimeout, Duration timeout,
                              Duration idleTimeout, Client client) {
        String scheme = Objects.requireNonNull(baseUrl, "baseUrl").getScheme();
        if (!"https".equals(scheme) && !"http".equals(scheme)) {
            throw new IllegalArgumentException("upstream URL must be http or https: " + baseUrl);
        }
        this.baseUrl = URI.create(baseUrl.toString().replaceAll("/+$", ""));
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.idleTimeout = idleTimeout;
        this.transport = switch (Objects.requireNonNull(client, "client")) {
            case JDK -> new JdkUpstreamTransport(connectTimeout);
            case JETTY -> new JettyUpstreamTransport(connectTimeout);
            case APACHE -> new ApacheUpstreamTransport(connectTimeout);
        };
        this.client = client;
    }

    /** Which HTTP client carries the calls. */
    public Client client() {
        return client;
    }

    @Override
    public UpstreamResponse send(UpstreamRequest request) throws UpstreamException {
        Duration wait = timeout;
        if (request.deadline() != null) {
            Duration left = Duration.between(java.time.Instant.now(), request.deadline());
            if (left.isNegative() || left.isZero()) {
                throw new UpstreamException(UpstreamException.Kind.TIMEOUT, "no time left before the deadline", null);
            }
            wait = left.compareTo(timeout) < 0 ? left : timeout;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("accept", request.stream() ? "text/event-stream" : "application/json");
        String key;
        try {
            key = apiKey.get();
        } catch (RuntimeException e) {
            // e.g. Secrets Manager unreachable: an upstream failure (502), never the secret's details
            throw new UpstreamException(UpstreamException.Kind.CONNECT, "the upstream credential is unavailable", null);
        }
        if (key != null && !key.isEmpty()) {
            headers.put("x-api-key", key);
        }
        headers.putAll(request.headers());
        UpstreamTransport.Reply reply = transport.exchange(request.method(), URI.create(baseUrl + request.path()),
                headers, request.body(), wait);
        return new UpstreamResponse(reply.status(), reply.headers(),
                new IdleTimeoutInputStream(reply.body(), idleTimeout, request.deadline()));
    }

    @Override
    public String describe() {
        return "anthropic-compatible " + baseUrl;
    }
}
