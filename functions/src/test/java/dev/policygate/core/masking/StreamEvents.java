package dev.policygate.core.masking;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import java.util.ArrayList;
import java.util.List;

/** Builds Messages API stream events shaped like the ones the API sends. */
final class StreamEvents {
    private StreamEvents() {
    }

    static SseEvent event(String type, ObjectNode data) {
        data.put("type", type);
        try {
            // "type" first, as the API writes it
            ObjectNode ordered = Json.mapper().createObjectNode().put("type", type);
            data.properties().forEach(e -> ordered.set(e.getKey(), e.getValue()));
            return new SseEvent(type, Json.mapper().writeValueAsString(ordered));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode obj() {
        return Json.mapper().createObjectNode();
    }

    static SseEvent messageStart() {
        ObjectNode message = obj().put("id", "msg_01").put("type", "message").put("role", "assistant")
                .put("model", "claude-sonnet-4-5");
        message.putArray("content");
        message.putNull("stop_reason");
        message.putNull("stop_sequence");
        message.set("usage", obj().put("input_tokens", 25).put("output_tokens", 1));
        ObjectNode data = obj();
        data.set("message", message);
        return event("message_start", data);
    }

    static SseEvent textStart(int index) {
        return blockStart(index, obj().put("type", "text").put("text", ""));
    }

    static SseEvent thinkingStart(int index) {
        return blockStart(index, obj().put("type", "thinking").put("thinking", "").put("signature", ""));
    }

    static SseEvent toolUseStart(int index, String id, String name) {
        ObjectNode block = obj().put("type", "tool_use").put("id", id).put("name", name);
        block.set("input", obj());
        return blockStart(index, block);
    }

    static SseEvent blockStart(int index, ObjectNode block) {
        ObjectNode data = obj().put("index", index);
        data.set("content_block", block);
        return event("content_block_start", data);
    }

    static SseEvent textDelta(int index, String text) {
        return delta(index, obj().put("type", "text_delta").put("text", text));
    }

    static SseEvent thinkingDelta(int index, String thinking) {
        return delta(index, obj().put("type", "thinking_delta").put("thinking", thinking));
    }

    static SseEvent signatureDelta(int index, String signature) {
        return delta(index, obj().put("type", "signature_delta").put("signature", signature));
    }

    static SseEvent inputJsonDelta(int index, String partialJson) {
        return delta(index, obj().put("type", "input_json_delta").put("partial_json", partialJson));
    }

    static SseEvent delta(int index, ObjectNode delta) {
        ObjectNode data = obj().put("index", index);
        data.set("delta", delta);
        return event("content_block_delta", data);
    }

    static SseEvent blockStop(int index) {
        return event("content_block_stop", obj().put("index", index));
    }

    static SseEvent ping() {
        return event("ping", obj());
    }

    static SseEvent messageDelta(String stopReason, int outputTokens) {
        ObjectNode data = obj();
        data.set("delta", obj().put("stop_reason", stopReason).putNull("stop_sequence"));
        data.set("usage", obj().put("output_tokens", outputTokens));
        return event("message_delta", data);
    }

    static SseEvent messageStop() {
        return event("message_stop", obj());
    }

    /** A complete single-text-block stream whose text arrives in the given chunks. */
    static List<SseEvent> textStream(List<String> chunks) {
        List<SseEvent> events = new ArrayList<>();
        events.add(messageStart());
        events.add(textStart(0));
        events.add(ping());
        chunks.forEach(c -> events.add(textDelta(0, c)));
        events.add(blockStop(0));
        events.add(messageDelta("end_turn", 42));
        events.add(messageStop());
        return events;
    }

    static List<String> chunks(String text, int size) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += size) {
            out.add(text.substring(i, Math.min(text.length(), i + size)));
        }
        return out;
    }

    static JsonNode data(SseEvent e) {
        try {
            return Json.mapper().readTree(e.data());
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The text (or thinking) the client would assemble for one block from emitted deltas. */
    static String emittedText(List<SseEvent> emitted, int index) {
        StringBuilder out = new StringBuilder();
        for (SseEvent e : emitted) {
            JsonNode d = data(e);
            if ("content_block_delta".equals(e.event()) && d.path("index").asInt() == index) {
                JsonNode delta = d.get("delta");
                out.append(delta.path("text").asText("")).append(delta.path("thinking").asText(""));
            }
        }
        return out.toString();
    }
}
