package dev.policygate.hardening;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.SseEvent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** A well-formed Messages API stream, one text block at index 0, for the limit and fault tests. */
final class SseFixtures {
    private SseFixtures() {
    }

    private static SseEvent event(String type, ObjectNode data) {
        data.put("type", type);
        return new SseEvent(type, data.toString());
    }

    static SseEvent messageStart() {
        ObjectNode m = Json.mapper().createObjectNode().put("id", "msg_1").put("type", "message")
                .put("role", "assistant").put("model", "claude-sonnet-4-5");
        m.putArray("content");
        m.putNull("stop_reason");
        m.putObject("usage").put("input_tokens", 1).put("output_tokens", 1);
        ObjectNode d = Json.mapper().createObjectNode();
        d.set("message", m);
        return event("message_start", d);
    }

    static SseEvent textStart() {
        ObjectNode d = Json.mapper().createObjectNode().put("index", 0);
        d.putObject("content_block").put("type", "text").put("text", "");
        return event("content_block_start", d);
    }

    static SseEvent textDelta(String text) {
        ObjectNode d = Json.mapper().createObjectNode().put("index", 0);
        d.putObject("delta").put("type", "text_delta").put("text", text);
        return event("content_block_delta", d);
    }

    static SseEvent stop() {
        return event("content_block_stop", Json.mapper().createObjectNode().put("index", 0));
    }

    static SseEvent messageDelta() {
        ObjectNode d = Json.mapper().createObjectNode();
        d.putObject("delta").put("stop_reason", "end_turn");
        d.putObject("usage").put("output_tokens", 3);
        return event("message_delta", d);
    }

    static SseEvent messageStop() {
        return event("message_stop", Json.mapper().createObjectNode());
    }

    /** A whole reply streamed as the given deltas. */
    static List<SseEvent> reply(String... deltas) {
        List<SseEvent> events = new java.util.ArrayList<>(List.of(messageStart(), textStart()));
        for (String d : deltas) {
            events.add(textDelta(d));
        }
        events.addAll(List.of(stop(), messageDelta(), messageStop()));
        return events;
    }

    /** The text of the deltas of block 0 in the order received. */
    static String text(List<SseEvent> events) {
        StringBuilder out = new StringBuilder();
        for (SseEvent e : events) {
            if ("content_block_delta".equals(e.event())) {
                out.append(parse(e.data()).path("delta").path("text").asText(""));
            }
        }
        return out.toString();
    }

    static JsonNode parse(String json) {
        try {
            return Json.mapper().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
