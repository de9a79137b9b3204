package dev.policygate.core.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An HTTP response as the core produces it: either a complete body or a streamed one
 * (Server-Sent Events), which the server adapter writes and flushes as it goes.
 */
public final class GatewayResponse {
    /** Writes a streamed body. Called once, after the status and headers are sent. */
    @FunctionalInterface
    public interface StreamingBody {
        void writeTo(ResponseSink sink) throws IOException;
    }

    private final int status;
    private final Map<String, String> headers;
    private final byte[] body;
    private final StreamingBody streamingBody;

    private GatewayResponse(int status, Map<String, String> headers, byte[] body, StreamingBody streamingBody) {
        this.status = status;
        this.headers = headers;
        this.body = body;
        this.streamingBody = streamingBody;
    }

    public static GatewayResponse of(int status, String contentType, byte[] body) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("content-type", contentType);
        return new GatewayResponse(status, h, body, null);
    }

    public static GatewayResponse json(int status, byte[] body) {
        return of(status, "application/json", body);
    }

    public static GatewayResponse html(int status, String html) {
        GatewayResponse r = of(status, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
        r.headers.put("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
        r.headers.put("x-frame-options", "DENY");
        r.headers.put("referrer-policy", "no-referrer");
        r.headers.put("cache-control", "no-store");
        return r;
    }

    public static GatewayResponse stream(int status, StreamingBody body) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("content-type", "text/event-stream; charset=utf-8");
        h.put("cache-control", "no-cache");
        return new GatewayResponse(status, h, null, body);
    }

    public GatewayResponse header(String name, String value) {
        if (value != null) {
            headers.put(name, value);
        }
        return this;
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** The complete body, or null when {@link #streamingBody()} is set. */
    public byte[] body() {
        return body;
    }

    public StreamingBody streamingBody() {
        return streamingBody;
    }

    public boolean streaming() {
        return streamingBody != null;
    }
}
