package dev.policygate.hardening;

import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.gateway.ResponseSink;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** An in-process upstream that streams a fixed list of events, and a reader for streamed responses. */
final class FaultyUpstream implements ClaudeUpstream {
    final List<UpstreamRequest> sent = new CopyOnWriteArrayList<>();
    private final byte[] body;

    private FaultyUpstream(byte[] body) {
        this.body = body;
    }

    static FaultyUpstream streaming(List<SseEvent> events) {
        StringBuilder b = new StringBuilder();
        events.forEach(e -> b.append(e.encode()));
        return new FaultyUpstream(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public UpstreamResponse send(UpstreamRequest request) {
        sent.add(request);
        return new UpstreamResponse(200, Map.of("content-type", "text/event-stream"), new ByteArrayInputStream(body));
    }

    @Override
    public String describe() {
        return "faulty";
    }

    /** The whole response body as the client would read it (runs a streamed body to its end). */
    static String drain(GatewayResponse r) {
        if (!r.streaming()) {
            return new String(r.body(), StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            r.streamingBody().writeTo(new ResponseSink() {
                @Override
                public void write(byte[] bytes) {
                    out.writeBytes(bytes);
                }

                @Override
                public void flush() {
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
