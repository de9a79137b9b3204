package dev.policygate.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamException;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

/**
 * The built-in offline model: answers "echo: " followed by the last user text, as JSON or as an
 * Anthropic-ordered SSE stream, so that decisions, masking, approvals and recordings can be seen
 * end to end without an API key. It is not Claude, and the server says so loudly.
 */
public final class EchoUpstream implements ClaudeUpstream {
    private static final int CHUNK = 7;

    @Override
    public UpstreamResponse send(UpstreamRequest request) throws UpstreamException {
        try {
            if (request.path().startsWith("/v1/models")) {
                return json(models());
            }
            JsonNode body = Json.mapper().readTree(request.body());
            String text = lastUserText(body);
            if (request.path().equals("/v1/messages/count_tokens")) {
                ObjectNode n = Json.mapper().createObjectNode();
                n.put("input_tokens", Math.max(1, body.toString().length() / 4));
                return json(n);
            }
            String model = body.path("model").asText("echo");
            String reply = "echo: " + text;
            int inTokens = Math.max(1, text.length() / 4);
            int outTokens = Math.max(1, reply.length() / 4);
            String id = "msg_echo_" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
            if (body.path("stream").asBoolean(false)) {
                return sse(stream(id, model, reply, inTokens, outTokens));
            }
            ObjectNode msg = message(id, model, inTokens);
            ArrayNode content = msg.putArray("content");
            content.addObject().put("type", "text").put("text", reply);
            msg.put("stop_reason", "end_turn");
            msg.putNull("stop_sequence");
            ((ObjectNode) msg.get("usage")).put("output_tokens", outTokens);
            return json(msg);
        } catch (IOException e) {
            throw new UpstreamException(UpstreamException.Kind.IO, "echo model could not read the request", e);
        }
    }

    private static String lastUserText(JsonNode body) {
        String text = "";
        for (JsonNode m : body.path("messages")) {
            if (!"user".equals(m.path("role").asText())) {
                continue;
            }
            JsonNode c = m.get("content");
            if (c != null && c.isTextual()) {
                text = c.asText();
            } else if (c != null && c.isArray()) {
                StringBuilder b = new StringBuilder();
                for (JsonNode block : c) {
                    if ("text".equals(block.path("type").asText())) {
                        b.append(block.path("text").asText());
                    }
                }
                text = b.toString();
            }
        }
        return text;
    }

    private static ObjectNode message(String id, String model, int inTokens) {
        ObjectNode msg = Json.mapper().createObjectNode();
        msg.put("id", id);
        msg.put("type", "message");
        msg.put("role", "assistant");
        msg.put("model", model);
        ObjectNode usage = msg.putObject("usage");
        usage.put("input_tokens", inTokens);
        usage.put("output_tokens", 0);
        return msg;
    }

    private static String stream(String id, String model, String reply, int inTokens, int outTokens) {
        StringBuilder s = new StringBuilder();
        ObjectNode start = Json.mapper().createObjectNode();
        start.put("type", "message_start");
        ObjectNode msg = message(id, model, inTokens);
        msg.putArray("content");
        msg.putNull("stop_reason");
        msg.putNull("stop_sequence");
        start.set("message", msg);
        event(s, "message_start", start);
        event(s, "content_block_start", Json.mapper().createObjectNode().put("type", "content_block_start")
                .put("index", 0).set("content_block", Json.mapper().createObjectNode().put("type", "text")
                        .put("text", "")));
        event(s, "ping", Json.mapper().createObjectNode().put("type", "ping"));
        for (int i = 0; i < reply.length(); i += CHUNK) {
            int end = Math.min(reply.length(), i + CHUNK);
            if (end < reply.length() && Character.isHighSurrogate(reply.charAt(end - 1))) {
                end++;
            }
            ObjectNode delta = Json.mapper().createObjectNode().put("type", "text_delta")
                    .put("text", reply.substring(i, end));
            event(s, "content_block_delta", Json.mapper().createObjectNode().put("type", "content_block_delta")
                    .put("index", 0).set("delta", delta));
            i = end - CHUNK;
        }
        event(s, "content_block_stop", Json.mapper().createObjectNode().put("type", "content_block_stop")
                .put("index", 0));
        ObjectNode md = Json.mapper().createObjectNode().put("type", "message_delta");
        md.putObject("delta").put("stop_reason", "end_turn").putNull("stop_sequence");
        md.putObject("usage").put("output_tokens", outTokens);
        event(s, "message_delta", md);
        event(s, "message_stop", Json.mapper().createObjectNode().put("type", "message_stop"));
        return s.toString();
    }

    private static void event(StringBuilder s, String name, JsonNode data) {
        s.append("event: ").append(name).append('\n').append("data: ").append(data.toString()).append("\n\n");
    }

    private static ObjectNode models() {
        ObjectNode list = Json.mapper().createObjectNode();
        ArrayNode data = list.putArray("data");
        for (String id : new String[]{"claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"}) {
            data.addObject().put("type", "model").put("id", id).put("display_name", id + " (offline echo)")
                    .put("created_at", "2025-01-01T00:00:00Z");
        }
        list.put("has_more", false);
        list.put("first_id", "claude-opus-4-1");
        list.put("last_id", "claude-haiku-4-5");
        return list;
    }

    private static UpstreamResponse json(JsonNode n) {
        return new UpstreamResponse(200, Map.of("content-type", "application/json"),
                new ByteArrayInputStream(n.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private static UpstreamResponse sse(String body) {
        return new UpstreamResponse(200, Map.of("content-type", "text/event-stream"),
                new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public String describe() {
        return "offline echo model (NOT Claude)";
    }
}
