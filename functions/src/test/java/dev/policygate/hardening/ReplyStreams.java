package dev.policygate.hardening;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.SseEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * Messages API reply streams for the hardening suite: one text block whose text arrives in
 * fixed-size deltas, shaped like the events the API sends (the same shapes as the masking
 * tests' {@code StreamEvents}, which is package-private to {@code core.masking}).
 */
final class ReplyStreams {
    private ReplyStreams() {
    }

    /** message_start, one text block fed {@code chunkSize} characters per delta, then the stop events. */
    static List<SseEvent> textInChunks(String text, int chunkSize) {
        List<SseEvent> events = new ArrayList<>();
        ObjectNode message = obj().put("id", "msg_01").put("type", "message").put("role", "assistant")
                .put("model", "claude-sonnet-4-5");
        message.putArray("content");
        message.putNull("stop_reason");
        message.putNull("stop_sequence");
        message.set("usage", obj().put("input_tokens", 25).put("output_tokens", 1));
        ObjectNode start = obj();
        start.set("message", message);
        events.add(event("message_start", start));
        ObjectNode blockStart = obj().put("index", 0);
        blockStart.set("content_block", obj().put("type", "text").put("text", ""));
        events.add(event("content_block_start", blockStart));
        for (int i = 0, end; i < text.length(); i = end) {
            end = Math.min(text.length(), i + chunkSize);
            // never split a surrogate pair: the API sends whole code points
            if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
                end++;
            }
            ObjectNode delta = obj().put("index", 0);
            delta.set("delta", obj().put("type", "text_delta").put("text", text.substring(i, end)));
            events.add(event("content_block_delta", delta));
        }
        events.add(event("content_block_stop", obj().put("index", 0)));
        ObjectNode messageDelta = obj();
        messageDelta.set("delta", obj().put("stop_reason", "end_turn").putNull("stop_sequence"));
        messageDelta.set("usage", obj().put("output_tokens", 42));
        events.add(event("message_delta", messageDelta));
        events.add(event("message_stop", obj()));
        return events;
    }

    /** The text a client assembles from the text deltas that were sent. */
    static String emittedText(List<SseEvent> emitted) {
        StringBuilder out = new StringBuilder();
        for (SseEvent e : emitted) {
            if ("content_block_delta".equals(e.event())) {
                out.append(data(e).path("delta").path("text").asText(""));
            }
        }
        return out.toString();
    }

    private static ObjectNode obj() {
        return Json.mapper().createObjectNode();
    }

    private static SseEvent event(String type, ObjectNode data) {
        ObjectNode ordered = obj().put("type", type);
        data.properties().forEach(e -> ordered.set(e.getKey(), e.getValue()));
        try {
            return new SseEvent(type, Json.mapper().writeValueAsString(ordered));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode data(SseEvent e) {
        try {
            return Json.mapper().readTree(e.data());
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
