package dev.policygate.core.upstream;

import java.util.Map;

/**
 * A call to Claude. The headers never carry the client's credential: the upstream adapter adds
 * the gateway's own.
 *
 * @param path    for example {@code /v1/messages}
 * @param body    the JSON body, or null for GET
 * @param headers the Anthropic headers to pass on ({@code anthropic-version}, {@code anthropic-beta})
 */
public record UpstreamRequest(String method, String path, byte[] body, Map<String, String> headers, boolean stream) {
    public UpstreamRequest {
        headers = Map.copyOf(headers);
    }
}
