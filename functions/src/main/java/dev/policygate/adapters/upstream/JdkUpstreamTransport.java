package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.UpstreamException;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The JDK {@code HttpClient} (HTTP/1.1): what the Lambda jar uses, since it carries no Jetty. */
final class JdkUpstreamTransport implements UpstreamTransport {
    private final HttpClient client;

    JdkUpstreamTransport(Duration connectTimeout) {
        this.client = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    @Override
    public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body, Duration headerWait)
            throws UpstreamException {
        // No HttpRequest.timeout(): the JDK client registers every such timer in one synchronized
        // set shared with its selector thread, and under concurrency the request threads queue on
        // that lock (the largest wait in the profile). The wait for the headers is bounded below.
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        headers.forEach(b::header);
        if (body != null) {
            b.header("content-type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        CompletableFuture<HttpResponse<InputStream>> pending =
                client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        try {
            HttpResponse<InputStream> resp = awaitHeaders(pending, headerWait);
            Map<String, String> out = new HashMap<>();
            for (Map.Entry<String, List<String>> e : resp.headers().map().entrySet()) {
                if (!e.getValue().isEmpty()) {
                    out.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue().get(0));
                }
            }
            return new Reply(resp.statusCode(), out, resp.body());
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
}
