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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * The Anthropic API over HTTPS (or any base URL speaking the Messages API, such as a mock),
 * authenticated with the gateway's own key. The key comes from a supplier so that it can
 * rotate, and it is never logged or returned.
 *
 * <p>The HTTP/1.1 client is the JDK's. With the system property {@value #CLIENT_PROPERTY}{@code =jetty}
 * the local jar (which carries Jetty; the Lambda jar does not) uses Jetty's instead: a lower
 * streaming time to first event in bench runs, but Jetty reads a connection reset in a body
 * delimited by the connection's end as a normal end, so such a cut is caught only by the
 * SSE/JSON framing (the upstream error is then "ended before message_stop", not "failed").
 */
public final class HttpClaudeUpstream implements ClaudeUpstream {
    /** System property choosing the HTTP client: {@code jetty} or {@code jdk}. */
    public static final String CLIENT_PROPERTY = "policygate.upstream.client";
    private final URI baseUrl;
    private final Supplier<String> apiKey;
    private final UpstreamTransport transport;
    private final Duration timeout;
    private final Duration idleTimeout;
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "policygate-upstream-watchdog");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param timeout     how long to wait for the response headers
     * @param idleTimeout how long the body may go without a byte (SSE pings arrive far more often)
     */
    public HttpClaudeUpstream(URI baseUrl, Supplier<String> apiKey, Duration connectTimeout, Duration timeout,
                              Duration idleTimeout) {
        this(baseUrl, apiKey, connectTimeout, timeout, idleTimeout, useJetty());
    }

    /**
     * @param jetty Jetty's HTTP client (the local server's default: faster under concurrency) rather
     *              than the JDK's (Lambda, where Jetty is not in the jar)
     */
    public HttpClaudeUpstream(URI baseUrl, Supplier<String> apiKey, Duration connectTimeout, Duration timeout,
                              Duration idleTimeout, boolean jetty) {
        String scheme = Objects.requireNonNull(baseUrl, "baseUrl").getScheme();
        if (!"https".equals(scheme) && !"http".equals(scheme)) {
            throw new IllegalArgumentException("upstream URL must be http or https: " + baseUrl);
        }
        this.baseUrl = URI.create(baseUrl.toString().replaceAll("/+$", ""));
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.idleTimeout = idleTimeout;
        this.transport = jetty ? new JettyUpstreamTransport(connectTimeout) : new JdkUpstreamTransport(connectTimeout);
    }

    private static boolean useJetty() {
        return useJetty("jdk");
    }

    /** The client {@value #CLIENT_PROPERTY} chooses ({@code jdk} or {@code jetty}), else {@code fallback}. */
    public static boolean useJetty(String fallback) {
        String chosen = System.getProperty(CLIENT_PROPERTY, fallback);
        if (!"jetty".equals(chosen)) {
            return false;
        }
        try {
            Class.forName("org.eclipse.jetty.client.HttpClient", false, HttpClaudeUpstream.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException(CLIENT_PROPERTY + "=jetty, but this jar carries no Jetty client");
        }
    }

    /** Which HTTP client carries the calls: {@code jetty} or {@code jdk}. */
    public String client() {
        return transport instanceof JettyUpstreamTransport ? "jetty" : "jdk";
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
                new IdleTimeoutInputStream(reply.body(), idleTimeout, request.deadline(), WATCHDOG));
    }

    @Override
    public String describe() {
        return "anthropic-compatible " + baseUrl;
    }
}
