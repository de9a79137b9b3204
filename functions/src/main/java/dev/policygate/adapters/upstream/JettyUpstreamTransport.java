package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.UpstreamException;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Jetty's HTTP/1.1 client: the request is written from the calling thread and the response is
 * parsed on one selector thread, without the JDK client's hand-offs between its selector, its
 * executor and the caller. Only where the jar carries Jetty (the local server), never in Lambda.
 */
final class JettyUpstreamTransport implements UpstreamTransport {
    /** How long an unused pooled connection is kept. */
    private static final long POOL_IDLE_MS = 30_000;
    private final HttpClient client;

    JettyUpstreamTransport(Duration connectTimeout) {
        QueuedThreadPool pool = new QueuedThreadPool(64, 4);
        pool.setName("policygate-upstream");
        pool.setDaemon(true);
        this.client = new HttpClient(new HttpClientTransportOverHTTP(1));
        client.setExecutor(pool);
        client.setScheduler(new ScheduledExecutorScheduler("policygate-upstream-timer", true));
        client.setConnectTimeout(connectTimeout.toMillis());
        client.setIdleTimeout(POOL_IDLE_MS);
        client.setFollowRedirects(false);
        // the upstream sees no client banner, and bodies pass through undecoded, as with the JDK client
        client.setUserAgentField(null);
        client.getContentDecoderFactories().clear();
        client.setMaxConnectionsPerDestination(1024);
        client.setMaxRequestsQueuedPerDestination(4096);
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("the upstream HTTP client did not start", e);
        }
        // no authentication, proxy-authentication or other protocol handling (start() installs them):
        // an upstream 401 or 407 is an answer to relay as the gateway's own error (502), never a
        // challenge to act on, and Jetty turns a 401 without WWW-Authenticate into a protocol error
        client.getProtocolHandlers().clear();
    }

    @Override
    public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body, Duration headerWait)
            throws UpstreamException {
        Request request = client.newRequest(uri).method(method)
                // no read may stall longer than the header wait; the body's own idle limit is the caller's
                .idleTimeout(headerWait.toMillis() + 1000, TimeUnit.MILLISECONDS)
                .headers(h -> headers.forEach(h::put));
        if (body != null) {
            request.body(new BytesRequestContent("application/json", body));
        }
        InputStreamResponseListener listener = new InputStreamResponseListener();
        request.send(listener);
        Response response;
        try {
            response = listener.get(headerWait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            request.abort(e);
            throw new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null);
        } catch (InterruptedException e) {
            request.abort(e);
            Thread.currentThread().interrupt();
            throw new UpstreamException(UpstreamException.Kind.IO, "interrupted", null);
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        }
        Map<String, String> out = new HashMap<>();
        for (HttpField f : response.getHeaders()) {
            out.putIfAbsent(f.getLowerCaseName(), f.getValue());
        }
        return new Reply(response.getStatus(), out, listener.getInputStream());
    }

    private static UpstreamException failure(Throwable thrown) {
        Throwable cause = thrown;
        while (cause != null && cause.getCause() != null && !(cause instanceof ConnectException)
                && !(cause instanceof SocketTimeoutException)) {
            cause = cause.getCause();
        }
        if (cause instanceof ConnectException || cause instanceof UnresolvedAddressException) {
            return new UpstreamException(UpstreamException.Kind.CONNECT, "connection refused", null);
        }
        if (cause instanceof SocketTimeoutException) {
            return new UpstreamException(UpstreamException.Kind.CONNECT, "connect timed out", null);
        }
        if (cause instanceof TimeoutException) {
            return new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null);
        }
        return new UpstreamException(UpstreamException.Kind.IO,
                "I/O error " + (cause == null ? "unknown" : cause.getClass().getSimpleName()), null);
    }
}
