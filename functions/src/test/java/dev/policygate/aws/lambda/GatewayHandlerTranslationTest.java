package dev.policygate.aws.lambda;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** How {@link GatewayHandler} translates proxy events to gateway requests and responses back. */
class GatewayHandlerTranslationTest {
    private static final int LIMIT = 64 * 1024;

    @Test
    void toGatewayRequest_takesMethodPathSourceIpAndLowerCasedHeaders_fromTheEvent() {
        // GIVEN API Gateway's event for POST /v1/messages (headers in mixed case)
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json");
        // WHEN it is translated
        GatewayRequest req = GatewayHandler.toGatewayRequest(event, LIMIT);
        // THEN the gateway sees the resource path (no stage), lower-cased names, API Gateway's source IP
        assertThat(req.method()).isEqualTo("POST");
        assertThat(req.path()).isEqualTo("/v1/messages");
        assertThat(req.headers()).containsEntry("host", "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")
                .containsEntry("x-api-key", ProxyEvents.KEY_PLACEHOLDER)
                .containsEntry("content-type", "application/json")
                .doesNotContainKey("Host");
        assertThat(req.sourceIp()).isEqualTo("203.0.113.42");
        assertThat(new String(req.body(), StandardCharsets.UTF_8)).isEqualTo(event.getBody());
        assertThat(req.bodyTooLarge()).isFalse();
    }

    @Test
    void toGatewayRequest_decodesABase64Body_toTheSameBytesAsThePlainEvent() {
        // GIVEN the same request, once as text and once base64-encoded
        GatewayRequest plain = GatewayHandler.toGatewayRequest(ProxyEvents.load("messages-post.json"), LIMIT);
        GatewayRequest encoded = GatewayHandler.toGatewayRequest(ProxyEvents.load("messages-base64.json"), LIMIT);
        // WHEN / THEN the gateway gets identical bytes
        assertThat(encoded.body()).isEqualTo(plain.body());
    }

    @Test
    void toGatewayRequest_passesAnEmptyBody_whenTheBase64IsCorrupt() {
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-base64.json");
        event.setBody("not*base64!");
        GatewayRequest req = GatewayHandler.toGatewayRequest(event, LIMIT);
        assertThat(req.body()).isEmpty();
        assertThat(req.bodyTooLarge()).isFalse();
    }

    @Test
    void toGatewayRequest_flagsABodyOverTheLimit_andDropsItsContent() {
        // GIVEN a body one byte over the limit once decoded
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json");
        int limit = event.getBody().getBytes(StandardCharsets.UTF_8).length - 1;
        // WHEN it is translated
        GatewayRequest req = GatewayHandler.toGatewayRequest(event, limit);
        // THEN the gateway is told it was too large and never sees it
        assertThat(req.bodyTooLarge()).isTrue();
        assertThat(req.body()).isEmpty();
    }

    @Test
    void toGatewayRequest_takesTheFirstValueOfRepeatedQueryParameters() {
        // GIVEN ?limit=20&limit=5 (API Gateway keeps the last one in the single-value map)
        APIGatewayProxyRequestEvent event = ProxyEvents.load("sessions-list.json");
        event.setMultiValueQueryStringParameters(Map.of("limit", List.of("20", "5")));
        event.setQueryStringParameters(Map.of("limit", "5"));
        // WHEN / THEN the first wins, as in the local server
        assertThat(GatewayHandler.toGatewayRequest(event, LIMIT).query()).containsExactly(Map.entry("limit", "20"));
    }

    @Test
    void toGatewayRequest_readsMultiValueHeaders_onlyWhenTheSingleValueMapIsAbsent() {
        APIGatewayProxyRequestEvent event = ProxyEvents.load("models-get.json");
        event.setHeaders(null);
        event.setMultiValueHeaders(Map.of("X-Api-Key", List.of("pgk_first", "pgk_second")));
        assertThat(GatewayHandler.toGatewayRequest(event, LIMIT).headers())
                .containsExactly(Map.entry("x-api-key", "pgk_first"));
    }

    @Test
    void toGatewayRequest_dropsASourceIpThatIsNotAnAddress_suchAsTheConsoleTestInvokeOne() {
        APIGatewayProxyRequestEvent event = ProxyEvents.load("models-get.json");
        event.getRequestContext().getIdentity().setSourceIp("test-invoke-source-ip");
        assertThat(GatewayHandler.toGatewayRequest(event, LIMIT).sourceIp()).isEqualTo("0.0.0.0");
    }

    @Test
    void toGatewayRequest_acceptsAnIpv6SourceAddress() {
        APIGatewayProxyRequestEvent event = ProxyEvents.load("models-get.json");
        event.getRequestContext().getIdentity().setSourceIp("2001:db8::7");
        assertThat(GatewayHandler.toGatewayRequest(event, LIMIT).sourceIp()).isEqualTo("2001:db8:0:0:0:0:0:7");
    }

    @Test
    void toGatewayRequest_givesTheGatewayAnEmptyRequest_whenTheEventIsBare() {
        // GIVEN an event with nothing in it
        GatewayRequest req = GatewayHandler.toGatewayRequest(new APIGatewayProxyRequestEvent(), LIMIT);
        // THEN the gateway gets something it can refuse (404/405), not a NullPointerException
        assertThat(req.method()).isEmpty();
        assertThat(req.path()).isEqualTo("/");
        assertThat(req.headers()).isEmpty();
        assertThat(req.query()).isEmpty();
        assertThat(req.body()).isEmpty();
    }

    @Test
    void toProxyResponse_writesAStreamedBodyWhole_withItsHeaders() {
        // GIVEN a streamed response written in three parts
        GatewayResponse streamed = GatewayResponse.stream(200, sink -> {
            sink.write("event: message_start\ndata: {\"type\":\"message_start\"}\n\n".getBytes(StandardCharsets.UTF_8));
            sink.flush();
            sink.write("event: ping\ndata: {\"type\":\"ping\"}\n\n".getBytes(StandardCharsets.UTF_8));
            sink.write("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".getBytes(StandardCharsets.UTF_8));
        }).header("x-policygate-session-id", "01JDA6C0V8Q5N4M3K2J1H0G9F8");
        // WHEN it is translated
        APIGatewayProxyResponseEvent out = GatewayHandler.toProxyResponse(streamed);
        // THEN the body is everything written, in order, with the event-stream headers
        assertThat(out.getStatusCode()).isEqualTo(200);
        assertThat(out.getIsBase64Encoded()).isFalse();
        assertThat(out.getHeaders()).containsEntry("content-type", "text/event-stream; charset=utf-8")
                .containsEntry("x-policygate-session-id", "01JDA6C0V8Q5N4M3K2J1H0G9F8");
        assertThat(out.getBody()).isEqualTo("event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
                + "event: ping\ndata: {\"type\":\"ping\"}\n\n"
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }

    @Test
    void toProxyResponse_keepsUtf8Text() {
        String text = "{\"text\":\"ünïcødé ✓\"}";
        GatewayResponse json = GatewayResponse.json(200, text.getBytes(StandardCharsets.UTF_8));
        assertThat(GatewayHandler.toProxyResponse(json).getBody()).isEqualTo(text);
    }
}
