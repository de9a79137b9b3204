package dev.policygate.bench;

import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;

import java.io.ByteArrayInputStream;
import java.util.Map;

/** An in-process Claude that answers every call with the same complete JSON reply, at once. */
final class FixedReplyUpstream implements ClaudeUpstream {
    private static final Map<String, String> HEADERS = Map.of("content-type", "application/json",
            "request-id", "req_bench");
    private final byte[] reply;

    FixedReplyUpstream(byte[] reply) {
        this.reply = reply.clone();
    }

    @Override
    public UpstreamResponse send(UpstreamRequest request) {
        return new UpstreamResponse(200, HEADERS, new ByteArrayInputStream(reply));
    }

    @Override
    public String describe() {
        return "in-process fixed reply (" + reply.length + " bytes)";
    }
}
