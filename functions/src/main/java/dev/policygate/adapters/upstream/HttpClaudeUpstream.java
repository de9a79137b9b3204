package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamException;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The Anthropic API over HTTPS (or any base URL speaking the Messages API, such as a mock),
 * authenticated with the gateway's own key. The key comes from a supplier so that it can
 * rotate, and it is never logged or returned.
 */
public final class HttpClaudeUpstream implements ClaudeUpstream {
    private final URI baseUrl;
    private final Supplier<String> apiKey;
    private final HttpClient client;
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
        String scheme = Objects.requireNonNull(baseUrl, "baseUrl").getScheme();
        if (!"https".equals(scheme) && !"http".equals(scheme)) {
            throw new IllegalArgumentException("upstream URL must be http or https: " + baseUrl);
        }
        this.baseUrl = URI.create(baseUrl.toString().replaceAll("/+$", ""));
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.idleTimeout = idleTimeout;
        this.client = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
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
        // No HttpRequest.timeout(): the JDK client registers every such timer in one synchronized
        // set shared with its selector thread, and under concurrency the request threads queue on
        // that lock (the largest wait in the profile). The wait for the headers is bounded below.
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + request.path()))
                .header("accept", request.stream() ? "text/event-stream" : "application/json");
        String key;
        try {
            key = apiKey.get();
        } catch (RuntimeException e) {
            // e.g. Secrets Manager unreachable: an upstream failure (502), never the secret's details
            throw new UpstreamException(UpstreamException.Kind.CONNECT, "the upstream credential is unavailable", null);
        }
        if (key != null && !key.isEmpty()) {
            b.header("x-api-key", key);
        }
        request.headers().forEach(b::header);
        if (request.body() != null) {
            b.header("content-type", "application/json");
            b.method(request.method(), HttpRequest.BodyPublishers.ofByteArray(request.body()));
        } else {
            b.method(request.method(), HttpRequest.BodyPublishers.noBody());
        }
        CompletableFuture<HttpResponse<InputStream>> pending =
                client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        try {
            HttpResponse<InputStream> resp = awaitHeaders(pending, wait);
            Map<String, String> headers = new HashMap<>();
            for (Map.Entry<String, List<String>> e : resp.headers().map().entrySet()) {
                if (!e.getValue().isEmpty()) {
                    headers.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue().get(0));
                }
            }
            return new UpstreamResponse(resp.statusCode(), headers,
                    new IdleTimeoutInputStream(resp.body(), idleTimeout, request.deadline(), WATCHDOG));
        } catch (HttpConnectTimeoutException e) {
            throw new UpstreamException(UpstreamException.Kind.CONNECT, "connect timed out", null);
        } catch (HttpTimeoutException e) {
            throw new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null);
        } catch (ConnectException e) {
            throw new UpstreamException(UpstreamException.Kind.CONNECT, "connection refused", null);
        } catch (IOException e) {
            throw new UpstreamException(UpstreamException.Kind.IO, "I/O error " + e.getClass().getSimpleName(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UpstreamException(UpstreamException.Kind.IO, "interrupted", null);
        }
    }

    /**
     * Waits for the response headers at most {@code wait}; on time-out or interruption the exchange
     * is cancelled, which closes its connection. Unwraps the client's own failures.
     */
    private static HttpResponse<InputStream> awaitHeaders(CompletableFuture<HttpResponse<InputStream>> pending,
                                                          Duration wait) throws IOException, InterruptedException {
        try {
            return pending.get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new HttpTimeoutException("no response headers within " + wait);
        } catch (InterruptedException e) {
            pending.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(cause);
        }
    }

    @Override
    public String describe() {
        return "anthropic-compatible " + baseUrl;
    }
}
