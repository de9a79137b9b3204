package dev.policygate.core.upstream;

import java.util.Map;

/**
 * A call to Claude. The headers never carry the client's credential: the upstream adapter adds
 * the gateway's own.
 *
 * @param path    for example {@code /v1/messages}
 * @param body    the JSON body, or null for GET
 * @param headers  the Anthropic headers to pass on ({@code anthropic-version}, {@code anthropic-beta})
 * @param deadline when the whole reply must have arrived (a Lambda's remaining time), or null
 */
public record UpstreamRequest(String method, String path, byte[] body, Map<String, String> headers, boolean stream,
                              java.time.Instant deadline) {
    public UpstreamRequest {
        headers = Map.copyOf(headers);
    }

    /** A request with no deadline beyond the adapter's own timeouts. */
    public UpstreamRequest(String method, String path, byte[] body, Map<String, String> headers, boolean stream) {
        this(method, path, body, headers, stream, null);
    }
}
