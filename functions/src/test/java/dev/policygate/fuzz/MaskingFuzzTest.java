package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.masking.MaskingException;
import dev.policygate.core.masking.ReplyMasker;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.masking.StreamingReplyMasker;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzes the reply maskers with text built from fuzz bytes and valid entities. Properties: a
 * streamed reply, however it is cut into deltas, reaches the client exactly as whole-text masking
 * would render it; no detected value stays visible; arbitrary event sequences fail only with
 * {@link MaskingException}; JSON replies are masked in every text-bearing field.
 */
class MaskingFuzzTest {
    private static final Set<String> OPAQUE = Set.of("type", "id", "tool_use_id", "signature", "name", "data",
            "url", "media_type", "encrypted_content", "file_id", "cache_control", "container_id", "server_name",
            "encrypted_index");

    @FuzzTest
    void streamedMasking_equalsWholeTextMasking_forEverySplit(FuzzedDataProvider data) {
        boolean thinking = data.consumeBoolean();
        TextMasker masker = data.consumeBoolean() ? FuzzSupport.REDACT_ALL : FuzzSupport.DEFAULTS;
        String text = FuzzSupport.textWithEntities(data, 16);
        List<String> parts = FuzzSupport.split(data, text);
        String type = thinking ? "thinking" : "text";
        String deltaType = thinking ? "thinking_delta" : "text_delta";

        List<SseEvent> out = new ArrayList<>();
        StreamingReplyMasker m = new StreamingReplyMasker(masker, UnmaskDecider.MASK_ALL, out::add);
        m.onEvent(FuzzSupport.messageStart());
        m.onEvent(FuzzSupport.blockStart(0, type));
        for (String p : parts) {
            m.onEvent(FuzzSupport.delta(0, deltaType, type, p));
        }
        m.onEvent(FuzzSupport.blockStop(0));
        m.onEvent(FuzzSupport.messageDelta());
        m.onEvent(FuzzSupport.messageStop());
        m.onComplete();

        String streamed = FuzzSupport.emittedText(out, 0, type);
        String whole = masker.mask(text, UnmaskDecider.MASK_ALL).text();
        assertEquals(Visibility.printable(whole), Visibility.printable(streamed), () -> "streamed != whole-text masking"
                + " for deltas " + parts.stream().map(Visibility::printable).toList());
        if (masker == FuzzSupport.REDACT_ALL) {
            Visibility.assertNoDetectedValueVisible(text, streamed, "stream");
        }
        // the recording is assembled from what the client saw
        String assembled = m.assembledMessage().path("content").path(0).path(type).asText();
        assertEquals(streamed, assembled, "assembled message != emitted deltas");
    }

    @FuzzTest
    void streamingMasker_failsOnlyWithMaskingException_onArbitraryEvents(FuzzedDataProvider data) {
        List<String> types = List.of("message_start", "content_block_start", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop", "ping", "error", "other");
        List<SseEvent> out = new ArrayList<>();
        StreamingReplyMasker m = new StreamingReplyMasker(FuzzSupport.REDACT_ALL, UnmaskDecider.MASK_ALL, out::add);
        int n = data.consumeInt(1, 12);
        try {
            for (int i = 0; i < n && data.remainingBytes() > 0; i++) {
                String type = data.pickValue(types);
                String payload = data.consumeBoolean() ? structured(data, type)
                        : data.consumeString(data.consumeInt(0, 200));
                m.onEvent(new SseEvent(type, payload));
            }
            m.onComplete();
            m.assembledMessage();
        } catch (MaskingException expected) {
            // the gateway turns this into an SSE error event and a FAILED session
        }
        for (SseEvent e : out) {
            // whatever went out parses back as an event (no line break smuggled into a type)
            new SseEvent(e.event(), e.data());
        }
    }

    @FuzzTest
    void replyMasker_masksEveryTextField_andFailsOnlyWithMaskingException(FuzzedDataProvider data) {
        ObjectNode message = FuzzSupport.obj().put("id", "msg_fuzz").put("type", "message").put("role", "assistant");
        ArrayNode content = message.putArray("content");
        int blocks = data.consumeInt(1, 5);
        for (int i = 0; i < blocks && data.remainingBytes() > 0; i++) {
            content.add(block(data, 0));
        }
        ObjectNode masked = message.deepCopy();
        try {
            new ReplyMasker(FuzzSupport.REDACT_ALL).maskMessage(masked, UnmaskDecider.MASK_ALL);
        } catch (MaskingException e) {
            return;
        }
        compare(message.get("content"), masked.get("content"), "content");
    }

    private static ObjectNode block(FuzzedDataProvider data, int depth) {
        String[] types = {"text", "thinking", "tool_use", "tool_result", "search_result", "document", "novel_type"};
        String type = types[data.consumeInt(0, types.length - 1)];
        ObjectNode b = FuzzSupport.obj().put("type", type);
        switch (type) {
            case "text" -> b.put("text", FuzzSupport.textWithEntities(data, 6));
            case "thinking" -> b.put("thinking", FuzzSupport.textWithEntities(data, 6)).put("signature", "sig");
            case "tool_use" -> {
                b.put("id", "toolu_1").put("name", "t");
                ObjectNode input = b.putObject("input");
                input.put("q", FuzzSupport.textWithEntities(data, 4));
                input.putArray("list").add(FuzzSupport.textWithEntities(data, 3))
                        .addObject().put("deep", FuzzSupport.textWithEntities(data, 3));
            }
            case "document" -> {
                b.putObject("source").put("type", "text").put("media_type", "text/plain")
                        .put("data", FuzzSupport.textWithEntities(data, 4));
                b.put("context", FuzzSupport.textWithEntities(data, 3));
            }
            default -> {
                b.put("tool_use_id", "toolu_1");
                if (depth < 2 && data.consumeBoolean()) {
                    b.putArray("content").add(block(data, depth + 1));
                } else {
                    b.put("content", FuzzSupport.textWithEntities(data, 4));
                }
                b.put("title", FuzzSupport.textWithEntities(data, 2));
            }
        }
        return b;
    }

    /** Walks original and masked side by side, checking every visible string. */
    private static void compare(JsonNode original, JsonNode masked, String path) {
        if (original.isTextual()) {
            Visibility.assertNoDetectedValueVisible(original.asText(), masked.asText(), path);
        } else if (original.isArray()) {
            for (int i = 0; i < original.size(); i++) {
                compare(original.get(i), masked.get(i), path + "[" + i + "]");
            }
        } else if (original.isObject()) {
            boolean opaqueSource = "document".equals(original.path("type").asText())
                    && !"text".equals(original.path("source").path("type").asText());
            Iterator<Map.Entry<String, JsonNode>> it = original.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                boolean opaque = OPAQUE.contains(e.getKey()) && !(e.getKey().equals("data")
                        && "text".equals(original.path("type").asText()));
                if (!opaque && !(opaqueSource && e.getKey().equals("source"))) {
                    compare(e.getValue(), masked.get(e.getKey()), path + "." + e.getKey());
                }
            }
        }
    }

    /** A JSON payload shaped like the event type, with fuzz in its fields. */
    private static String structured(FuzzedDataProvider data, String type) {
        ObjectNode d = FuzzSupport.obj().put("type", type);
        int index = data.consumeInt(-1, 3);
        switch (type) {
            case "message_start" -> {
                ObjectNode m = d.putObject("message");
                m.putArray("content");
                if (data.consumeBoolean()) {
                    ((ArrayNode) m.get("content")).addObject().put("type", "text")
                            .put("text", FuzzSupport.textWithEntities(data, 3));
                }
            }
            case "content_block_start" -> {
                d.put("index", index);
                String[] kinds = {"text", "thinking", "tool_use", "redacted_thinking", "weird"};
                String kind = kinds[data.consumeInt(0, kinds.length - 1)];
                d.putObject("content_block").put("type", kind).put(kind.equals("tool_use") ? "name" : kind,
                        FuzzSupport.textWithEntities(data, 3));
            }
            case "content_block_delta" -> {
                d.put("index", index);
                String[] kinds = {"text_delta", "thinking_delta", "input_json_delta", "signature_delta",
                        "citations_delta", "mystery_delta"};
                String kind = kinds[data.consumeInt(0, kinds.length - 1)];
                String field = switch (kind) {
                    case "text_delta" -> "text";
                    case "thinking_delta" -> "thinking";
                    case "input_json_delta" -> "partial_json";
                    case "signature_delta" -> "signature";
                    default -> "value";
                };
                ObjectNode delta = d.putObject("delta").put("type", kind);
                if (kind.equals("citations_delta")) {
                    delta.putObject("citation").put("cited_text", FuzzSupport.textWithEntities(data, 3));
                } else {
                    delta.put(field, FuzzSupport.textWithEntities(data, 3));
                }
            }
            case "content_block_stop" -> d.put("index", index);
            case "message_delta" -> d.putObject("delta").put("stop_reason", "end_turn");
            default -> d.put("message", FuzzSupport.textWithEntities(data, 3));
        }
        return d.toString();
    }
}
