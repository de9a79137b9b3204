package dev.policygate.aws.lambda;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import dev.policygate.core.json.Json;
import dev.policygate.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Loads the API Gateway proxy events of {@code events/apigateway/} and fills in their placeholders. */
final class ProxyEvents {
    static final String KEY_PLACEHOLDER = "pgk_REPLACE_WITH_A_GATEWAY_KEY";
    static final String SESSION_PLACEHOLDER = "01JDA6C0V8Q5N4M3K2J1H0G9F8";

    private ProxyEvents() {
    }

    /** The event as API Gateway would send it, placeholders untouched. */
    static APIGatewayProxyRequestEvent load(String name) {
        try {
            return Json.mapper().readValue(Fixtures.event("apigateway/" + name), APIGatewayProxyRequestEvent.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The event with {@code key} as its x-api-key, in both header maps. */
    static APIGatewayProxyRequestEvent load(String name, String key) {
        APIGatewayProxyRequestEvent event = load(name);
        setHeader(event, "x-api-key", key);
        return event;
    }

    /** Replaces the placeholder session id in the path and the path parameters. */
    static APIGatewayProxyRequestEvent forSession(APIGatewayProxyRequestEvent event, String sessionId) {
        event.setPath(event.getPath().replace(SESSION_PLACEHOLDER, sessionId));
        event.getRequestContext().setPath(event.getRequestContext().getPath().replace(SESSION_PLACEHOLDER, sessionId));
        event.setPathParameters(Map.of("id", sessionId));
        return event;
    }

    /** Sets (or, with null, removes) a header in both maps, as API Gateway fills both. */
    static void setHeader(APIGatewayProxyRequestEvent event, String name, String value) {
        Map<String, String> single = new HashMap<>(event.getHeaders());
        Map<String, List<String>> multi = new HashMap<>(event.getMultiValueHeaders());
        if (value == null) {
            single.remove(name);
            multi.remove(name);
        } else {
            single.put(name, value);
            multi.put(name, List.of(value));
        }
        event.setHeaders(single);
        event.setMultiValueHeaders(multi);
    }
}
