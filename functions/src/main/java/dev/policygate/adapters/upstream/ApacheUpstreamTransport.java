package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.UpstreamException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.HttpHostConnectException;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Apache HttpClient 5's classic (blocking) client: the request is written and the response read on
 * the calling thread itself, over a pooled keep-alive connection, so an exchange costs no hand-off
 * between threads and no selector wake-up (the JDK and Jetty clients hand every response from a
 * selector thread to the caller). Only where the jar carries it (the local server), never in Lambda.
 *
 * <p>Behaviour kept from the other transports: no redirects, retries, cookies, authentication
 * handling, content decoding or client banner; an upstream 401 or 407 is an answer to relay. The
 * status and headers must arrive within the header wait ({@link UpstreamWatchdog} aborts the exchange otherwise);
 * body reads are bounded by the caller's idle limit and by the socket timeout (the header wait).
 * Closing the body before its end abandons the connection rather than draining it (an SSE stream
 * may be endless).
 */
final class ApacheUpstreamTransport implements UpstreamTransport {
    /** How long an unused pooled connection is kept. */
    private static final long POOL_IDLE_MS = 30_000;
    /** A pooled connection idle for longer is checked before reuse (a stale one is replaced, not failed). */
    private static final long VALIDATE_AFTER_MS = 2_000;
    private static final ContentType JSON = ContentType.create("application/json");
    /** No redirects, no authentication, no 100-continue, no protocol upgrade; each exchange adds its header wait. */
    private static final RequestConfig DEFAULTS = RequestConfig.custom()
            .setRedirectsEnabled(false)
            .setAuthenticationEnabled(false)
            .setExpectContinueEnabled(false)
            .setProtocolUpgradeEnabled(false)
            .build();
    private final CloseableHttpClient client;

    ApacheUpstreamTransport(Duration connectTimeout) {
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(1024)
                .setMaxConnPerRoute(1024)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.ofMilliseconds(connectTimeout.toMillis()))
                        // bounds the TLS handshake too; each exchange then reads with its own header wait
                        .setSocketTimeout(Timeout.ofMilliseconds(connectTimeout.toMillis()))
                        .setValidateAfterInactivity(TimeValue.ofMilliseconds(VALIDATE_AFTER_MS))
                        .build())
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(pool)
                .setDefaultRequestConfig(DEFAULTS)
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableContentCompression()
                .disableConnectionState()
                .disableDefaultUserAgent()
                .evictIdleConnections(TimeValue.ofMilliseconds(POOL_IDLE_MS))
                .build();
    }

    @Override
    public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body, Duration headerWait)
            throws UpstreamException {
        HttpUriRequestBase request = new HttpUriRequestBase(method, uri);
        headers.forEach(request::addHeader);
        if (body != null) {
            request.setEntity(new ByteArrayEntity(body, JSON));
        }
        request.setConfig(RequestConfig.copy(DEFAULTS)
                .setResponseTimeout(Timeout.ofMilliseconds(Math.max(1, headerWait.toMillis())))
                .build());
        AtomicBoolean timedOut = new AtomicBoolean();
        UpstreamWatchdog.Watch timer = UpstreamWatchdog.at(System.nanoTime() + headerWait.toNanos(), () -> {
            timedOut.set(true);
            request.abort();
        });
        ClassicHttpResponse response;
        try {
            response = client.executeOpen(HttpHost.create(uri), request, null);
        } catch (IOException | RuntimeException e) {
            timer.cancel();
            throw timedOut.get() ? new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null)
                    : failure(e);
        }
        if (!timer.cancel() || timedOut.get()) {
            // the header wait fired as the reply arrived: the exchange is (being) aborted
            closeQuietly(response);
            throw new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null);
        }
        Map<String, String> out = new HashMap<>();
        for (Header h : response.getHeaders()) {
            out.putIfAbsent(h.getName().toLowerCase(Locale.ROOT), h.getValue());
        }
        HttpEntity entity = response.getEntity();
        InputStream content;
        try {
            content = entity == null ? InputStream.nullInputStream() : entity.getContent();
        } catch (IOException e) {
            request.abort();
            closeQuietly(response);
            throw failure(e);
        }
        return new Reply(response.getCode(), out, new Body(content, request, response,
                entity == null ? 0 : entity.getContentLength()));
    }

    private static UpstreamException failure(Throwable thrown) {
        if (thrown instanceof ConnectTimeoutException) {
            return new UpstreamException(UpstreamException.Kind.CONNECT, "connect timed out", null);
        }
        if (thrown instanceof HttpHostConnectException || thrown instanceof ConnectException
                || thrown instanceof UnknownHostException) {
            return new UpstreamException(UpstreamException.Kind.CONNECT, "connection refused", null);
        }
        if (thrown instanceof SocketTimeoutException) {
            return new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null);
        }
        return new UpstreamException(UpstreamException.Kind.IO, "I/O error " + thrown.getClass().getSimpleName(), null);
    }

    private static void closeQuietly(ClassicHttpResponse response) {
        try {
            response.close();
        } catch (IOException | RuntimeException e) {
            // the connection is discarded either way
        }
    }

    /**
     * The response body: at its end (end of stream seen, or every byte of a known length read),
     * closing it returns the connection to the pool; before its end, closing aborts the exchange,
     * so that the connection is dropped instead of drained.
     */
    private static final class Body extends FilterInputStream {
        private final HttpUriRequestBase request;
        private final ClassicHttpResponse response;
        /** The body's length when the reply states it, else negative. */
        private final long length;
        private long read;
        private boolean ended;
        private boolean closed;

        Body(InputStream in, HttpUriRequestBase request, ClassicHttpResponse response, long length) {
            super(in);
            this.request = request;
            this.response = response;
            this.length = length;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            ended |= b < 0;
            read += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            ended |= n < 0;
            read += Math.max(n, 0);
            return n;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (!ended && !(length >= 0 && read >= length)) {
                request.abort();
            }
            try {
                super.close();
            } catch (IOException | RuntimeException e) {
                // aborted: nothing left to release
            } finally {
                closeQuietly(response);
            }
        }
    }
}
