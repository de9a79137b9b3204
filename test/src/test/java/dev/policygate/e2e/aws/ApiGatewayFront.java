package dev.policygate.e2e.aws;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * What API Gateway does in front of a proxy-integration Lambda, for a browser or an HTTP client
 * on 127.0.0.1: turns each HTTP request into an {@link APIGatewayProxyRequestEvent} (method,
 * path, query, headers, body, source IP) and the handler's response back into HTTP.
 */
final class ApiGatewayFront implements AutoCloseable {
    private final HttpServer server;

    ApiGatewayFront(RequestHandler<APIGatewayProxyRequestEvent, APIGatewayProxyResponseEvent> handler)
            throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", ex -> handle(ex, handler));
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    static APIGatewayProxyRequestEvent event(String method, String pathAndQuery, Map<String, String> headers,
                                             String body) {
        String path = pathAndQuery;
        Map<String, String> query = new HashMap<>();
        int q = pathAndQuery.indexOf('?');
        if (q >= 0) {
            path = pathAndQuery.substring(0, q);
            for (String pair : pathAndQuery.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    query.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        APIGatewayProxyRequestEvent e = new APIGatewayProxyRequestEvent()
                .withHttpMethod(method).withPath(path).withResource("/approvals/{proxy+}")
                .withQueryStringParameters(query.isEmpty() ? null : query)
                .withHeaders(headers).withBody(body).withIsBase64Encoded(false);
        APIGatewayProxyRequestEvent.ProxyRequestContext ctx = new APIGatewayProxyRequestEvent.ProxyRequestContext();
        APIGatewayProxyRequestEvent.RequestIdentity id = new APIGatewayProxyRequestEvent.RequestIdentity();
        id.setSourceIp("203.0.113.7");
        ctx.setIdentity(id);
        e.setRequestContext(ctx);
        return e;
    }

    private static void handle(HttpExchange ex,
                               RequestHandler<APIGatewayProxyRequestEvent, APIGatewayProxyResponseEvent> handler)
            throws IOException {
        try (ex) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> headers = new HashMap<>();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            String uri = ex.getRequestURI().getRawPath()
                    + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
            APIGatewayProxyResponseEvent r = handler.handleRequest(
                    event(ex.getRequestMethod(), uri, headers, body.isEmpty() ? null : body), null);
            if (r.getHeaders() != null) {
                r.getHeaders().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            }
            byte[] out = r.getBody() == null ? new byte[0] : r.getBody().getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(r.getStatusCode(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                ex.getResponseBody().write(out);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
