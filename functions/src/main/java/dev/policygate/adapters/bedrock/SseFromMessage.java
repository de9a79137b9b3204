package dev.policygate.adapters.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Renders a complete Messages API reply as the Server-Sent Events a streaming call would have
 * produced, in Anthropic's exact order: {@code message_start}, then per content block
 * {@code content_block_start} (the first followed by {@code ping}), one delta
 * ({@code text_delta}, {@code input_json_delta}, {@code thinking_delta} + {@code signature_delta})
 * and {@code content_block_stop}; then {@code message_delta} with the stop reason and usage, and
 * {@code message_stop}. Blocks of other types are sent whole in their start event.
 */
final class SseFromMessage {
    private final ObjectMapper json;

    SseFromMessage(ObjectMapper json) {
        this.json = json;
    }

    byte[] render(JsonNode message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ObjectNode start = message.deepCopy();
        start.putArray("content");
        start.putNull("stop_reason");
        start.putNull("stop_sequence");
        ObjectNode startUsage = start.has("usage") && start.get("usage").isObject()
                ? (ObjectNode) start.get("usage") : start.putObject("usage");
        startUsage.put("output_tokens", 0);
        ObjectNode e = json.createObjectNode().put("type", "message_start");
        e.set("message", start);
        event(out, e);

        JsonNode content = message.path("content");
        for (int i = 0; i < content.size(); i++) {
            JsonNode block = content.get(i);
            String type = block.path("type").asText("");
            ObjectNode begin = json.createObjectNode().put("type", "content_block_start").put("index", i);
            switch (type) {
                case "text" -> begin.putObject("content_block").put("type", "text").put("text", "");
                case "tool_use", "server_tool_use" -> {
                    ObjectNode b = block.deepCopy();
                    b.putObject("input");
                    begin.set("content_block", b);
                }
                case "thinking" -> begin.putObject("content_block").put("type", "thinking").put("thinking", "");
                default -> begin.set("content_block", block);
            }
            event(out, begin);
            if (i == 0) {
                event(out, json.createObjectNode().put("type", "ping"));
            }
            switch (type) {
                case "text" -> delta(out, i, "text_delta", "text", block.path("text").asText(""));
                case "tool_use", "server_tool_use" -> delta(out, i, "input_json_delta", "partial_json",
                        write(block.path("input").isMissingNode() ? json.createObjectNode() : block.get("input")));
                case "thinking" -> {
                    delta(out, i, "thinking_delta", "thinking", block.path("thinking").asText(""));
                    if (block.hasNonNull("signature")) {
                        delta(out, i, "signature_delta", "signature", block.get("signature").asText());
                    }
                }
                default -> {
                    // sent whole in content_block_start
                }
            }
            event(out, json.createObjectNode().put("type", "content_block_stop").put("index", i));
        }
        if (content.isEmpty()) {
            event(out, json.createObjectNode().put("type", "ping"));
        }

        ObjectNode delta = json.createObjectNode().put("type", "message_delta");
        ObjectNode d = delta.putObject("delta");
        d.set("stop_reason", message.path("stop_reason").isMissingNode() ? null : message.get("stop_reason"));
        d.set("stop_sequence", message.path("stop_sequence").isMissingNode() ? null : message.get("stop_sequence"));
        ObjectNode usage = delta.putObject("usage");
        usage.put("output_tokens", message.path("usage").path("output_tokens").asLong(0));
        event(out, delta);
        event(out, json.createObjectNode().put("type", "message_stop"));
        return out.toByteArray();
    }

    private void delta(ByteArrayOutputStream out, int index, String type, String field, String value) {
        ObjectNode e = json.createObjectNode().put("type", "content_block_delta").put("index", index);
        e.putObject("delta").put("type", type).put(field, value);
        event(out, e);
    }

    private void event(ByteArrayOutputStream out, ObjectNode data) {
        String text = "event: " + data.get("type").asText() + "\ndata: " + write(data) + "\n\n";
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    private String write(JsonNode node) {
        try {
            return json.writeValueAsString(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
