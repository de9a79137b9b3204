package dev.policygate.core.gateway;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An HTTP request as the core sees it, free of any server or AWS type.
 *
 * @param path         the path without query string
 * @param query        decoded query parameters (first value of each)
 * @param headers      header names lower-cased (first value of each)
 * @param body         the body bytes, at most the configured limit
 * @param bodyTooLarge the server stopped reading because the body exceeded the limit
 * @param sourceIp     the client address
 */
public record GatewayRequest(String method, String path, Map<String, String> query, Map<String, String> headers,
                             byte[] body, boolean bodyTooLarge, String sourceIp) {
    public GatewayRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        query = query == null ? Map.of() : query;
        headers = headers == null ? Map.of() : headers;
        body = body == null ? new byte[0] : body;
        sourceIp = sourceIp == null ? "0.0.0.0" : sourceIp;
    }

    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }
}
