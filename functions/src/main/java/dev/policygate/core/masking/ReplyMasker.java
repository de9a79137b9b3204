package dev.policygate.core.masking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.policygate.core.detect.Detection;
import dev.policygate.core.detect.JoinedText;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Masks the text-bearing parts of Messages API JSON <em>in place</em>: callers that need the
 * original pass a {@code deepCopy()}.
 *
 * <p>Replies ({@link #maskMessage}): {@code text} (and its citations' {@code cited_text}),
 * {@code thinking}, every string inside {@code tool_use}/{@code server_tool_use}/{@code
 * mcp_tool_use} {@code input}, and the nested content of tool-result blocks. Requests ({@link
 * #maskRequestMessages}): {@code system} and every message's content, including tool results and
 * plain-text document sources.
 *
 * <p>Limits: object keys, ids, signatures, encrypted or base64 payloads (images, PDFs,
 * {@code redacted_thinking}) and URLs of base64/url/file sources are left as they are: they are
 * either opaque to us or must stay intact for the API to accept the message.
 */
public final class ReplyMasker {
    /** Fields that carry identifiers or opaque payloads rather than text a reader sees. */
    private static final Set<String> OPAQUE_FIELDS = Set.of("type", "id", "tool_use_id", "signature",
            "encrypted_content", "encrypted_index", "file_id", "media_type", "data", "url", "cache_control",
            "container_id", "name", "server_name");
    private static final Set<String> OPAQUE_SOURCE_TYPES = Set.of("base64", "url", "file");

    private final TextMasker masker;

    public ReplyMasker(TextMasker masker) {
        this.masker = Objects.requireNonNull(masker, "masker");
    }

    /** Masks a Message object (a non-streamed reply, or one assembled from a stream) in place. */
    public MaskReport maskMessage(ObjectNode message, UnmaskDecider decider) {
        MaskTally tally = new MaskTally(decider);
        maskContent(message, "content", tally);
        return tally.report();
    }

    /**
     * Keys whose string values are identifiers or opaque payloads, not text the model reads.
     * The request analyser skips these when it builds the prompt text that detection and policy
     * see, and request masking skips them too. Masking also walks a few strings the analyser does
     * not read (citations, a {@code tool_use} block's {@code name}), so it covers at least what is
     * detected; the gateway checks a masked copy again when an entity ran across strings.
     */
    public static final Set<String> REQUEST_NON_TEXT_KEYS = Set.of("type", "id", "tool_use_id", "media_type",
            "signature", "cache_control", "file_id");

    /**
     * Masks a Messages API request in place: the {@code system} prompt, every message, and every
     * tool definition (descriptions and schemas reach the model too), string by string. It walks
     * at least the text {@code RequestAnalyzer} reads; an entity that runs from one string into the
     * next needs {@link #maskRequestMessages(ObjectNode, UnmaskDecider, boolean)}.
     */
    public MaskReport maskRequestMessages(ObjectNode request, UnmaskDecider decider) {
        return maskRequestMessages(request, decider, false);
    }

    /**
     * Like {@link #maskRequestMessages(ObjectNode, UnmaskDecider)}; with {@code acrossParts} it also
     * masks entities that run from one string of the request into the next (the analyser reports
     * them: {@code AnalysedRequest.acrossParts}). The strings are joined in walk order with a newline
     * between each two, as detection sees them, and each piece of such an entity is masked in its own
     * string; {@link MaskReport#maskedAcrossParts()} names the classes so masked. That costs one more
     * scan of the request's text, so callers ask for it only when the analyser found such an entity.
     */
    public MaskReport maskRequestMessages(ObjectNode request, UnmaskDecider decider, boolean acrossParts) {
        MaskTally tally = new MaskTally(decider);
        UnaryOperator<String> mask = s -> masker.mask(s, tally);
        if (acrossParts) {
            JoinedText joined = new JoinedText(1024);
            walkRequest(request, s -> {
                joined.append(s);
                return s;
            });
            List<List<Detection>> pieces = masker.piecesAcrossJoins(joined, tally);
            if (pieces != null) {
                int[] part = {0};
                mask = s -> {
                    List<Detection> mine = pieces.get(part[0]++);
                    return mine == null ? masker.mask(s, tally) : masker.mask(s, mine, tally);
                };
            }
        }
        walkRequest(request, mask);
        return tally.report();
    }

    /** Applies {@code mask} to every string of the request that reaches the model, in one fixed order. */
    private static void walkRequest(ObjectNode request, UnaryOperator<String> mask) {
        JsonNode system = request.get("system");
        if (system != null) {
            request.set("system", maskRequestNode(system, mask));
        }
        JsonNode messages = request.get("messages");
        if (messages instanceof ArrayNode array) {
            for (JsonNode m : array) {
                if (m instanceof ObjectNode message && message.get("content") != null) {
                    message.set("content", maskRequestNode(message.get("content"), mask));
                }
            }
        }
        JsonNode tools = request.get("tools");
        if (tools instanceof ArrayNode array) {
            for (JsonNode t : array) {
                if (t instanceof ObjectNode tool) {
                    maskRequestNode(tool, mask);
                }
            }
        }
    }

    /** The request-side walk: every string except {@link #REQUEST_NON_TEXT_KEYS} and binary data. */
    private static JsonNode maskRequestNode(JsonNode node, UnaryOperator<String> mask) {
        if (node.isTextual()) {
            String masked = mask.apply(node.textValue());
            return masked.equals(node.textValue()) ? node : TextNode.valueOf(masked);
        }
        if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                JsonNode m = maskRequestNode(array.get(i), mask);
                if (m != array.get(i)) {
                    array.set(i, m);
                }
            }
        } else if (node instanceof ObjectNode object) {
            String type = object.path("type").asText("");
            if (type.equals("image") || type.equals("redacted_thinking")) {
                return node;
            }
            boolean base64 = type.equals("base64");
            for (Map.Entry<String, JsonNode> e : object.properties()) {
                String k = e.getKey();
                if (REQUEST_NON_TEXT_KEYS.contains(k) || (base64 && k.equals("data"))) {
                    continue;
                }
                JsonNode m = maskRequestNode(e.getValue(), mask);
                if (m != e.getValue()) {
                    e.setValue(m);
                }
            }
        }
        return node;
    }

    /** Masks {@code parent.field} when it is a string or an array of content blocks. */
    void maskContent(ObjectNode parent, String field, MaskTally tally) {
        JsonNode content = parent.get(field);
        if (content == null) {
            return;
        }
        if (content.isTextual()) {
            maskText(parent, field, tally);
        } else if (content instanceof ArrayNode blocks) {
            for (JsonNode b : blocks) {
                if (b instanceof ObjectNode block) {
                    maskBlock(block, tally);
                }
            }
        } else if (content instanceof ObjectNode block) {
            maskBlock(block, tally);
        }
    }

    /** Masks one content block, as found in a reply, a request or a content_block_start event. */
    void maskBlock(ObjectNode block, MaskTally tally) {
        String type = block.path("type").asText("");
        switch (type) {
            case "text" -> {
                maskText(block, "text", tally);
                maskCitations(block.get("citations"), tally);
            }
            case "thinking" -> maskText(block, "thinking", tally);
            case "redacted_thinking", "image" -> {
                // encrypted or binary: nothing a reader can see
            }
            case "tool_use", "server_tool_use", "mcp_tool_use" -> maskStrings(block, "input", tally);
            case "document" -> {
                JsonNode source = block.get("source");
                if (source instanceof ObjectNode src) {
                    maskSource(src, tally);
                }
                maskText(block, "context", tally);
                maskCitations(block.get("citations"), tally);
            }
            default -> {
                if (OPAQUE_SOURCE_TYPES.contains(type)) {
                    return;
                }
                // tool_result, mcp_tool_result, *_tool_result, search_result and types not yet
                // known: every visible string, recursing into nested blocks
                maskGeneric(block, tally);
            }
        }
    }

    private void maskSource(ObjectNode source, MaskTally tally) {
        String type = source.path("type").asText("");
        if ("text".equals(type)) {
            maskText(source, "data", tally);
        } else if ("content".equals(type)) {
            maskContent(source, "content", tally);
        }
    }

    private void maskCitations(JsonNode citations, MaskTally tally) {
        if (citations instanceof ArrayNode array) {
            for (JsonNode c : array) {
                if (c instanceof ObjectNode citation) {
                    maskText(citation, "cited_text", tally);
                }
            }
        }
    }

    private void maskGeneric(ObjectNode node, MaskTally tally) {
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (OPAQUE_FIELDS.contains(e.getKey())) {
                continue;
            }
            JsonNode v = e.getValue();
            if (v.isTextual()) {
                String masked = masker.mask(v.textValue(), tally);
                if (!masked.equals(v.textValue())) {
                    e.setValue(TextNode.valueOf(masked));
                }
            } else if (v instanceof ObjectNode child) {
                if (child.has("type")) {
                    maskBlock(child, tally);
                } else {
                    maskGeneric(child, tally);
                }
            } else if (v instanceof ArrayNode array) {
                maskGenericArray(array, tally);
            }
        }
    }

    private void maskGenericArray(ArrayNode array, MaskTally tally) {
        for (int i = 0; i < array.size(); i++) {
            JsonNode v = array.get(i);
            if (v.isTextual()) {
                String masked = masker.mask(v.textValue(), tally);
                if (!masked.equals(v.textValue())) {
                    array.set(i, TextNode.valueOf(masked));
                }
            } else if (v instanceof ObjectNode child) {
                if (child.has("type")) {
                    maskBlock(child, tally);
                } else {
                    maskGeneric(child, tally);
                }
            } else if (v instanceof ArrayNode nested) {
                maskGenericArray(nested, tally);
            }
        }
    }

    /** Masks every string value under {@code parent.field}, at any depth (tool inputs). */
    void maskStrings(ObjectNode parent, String field, MaskTally tally) {
        JsonNode v = parent.get(field);
        if (v == null) {
            return;
        }
        JsonNode masked = maskAllStrings(v, tally);
        if (masked != v) {
            parent.set(field, masked);
        }
    }

    /** Returns the node with its strings masked: the same node, modified, or a new text node. */
    JsonNode maskAllStrings(JsonNode v, MaskTally tally) {
        if (v.isTextual()) {
            String masked = masker.mask(v.textValue(), tally);
            return masked.equals(v.textValue()) ? v : TextNode.valueOf(masked);
        }
        if (v instanceof ObjectNode object) {
            for (Map.Entry<String, JsonNode> e : object.properties()) {
                JsonNode masked = maskAllStrings(e.getValue(), tally);
                if (masked != e.getValue()) {
                    e.setValue(masked);
                }
            }
        } else if (v instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                JsonNode masked = maskAllStrings(array.get(i), tally);
                if (masked != array.get(i)) {
                    array.set(i, masked);
                }
            }
        }
        return v;
    }

    private void maskText(ObjectNode parent, String field, MaskTally tally) {
        JsonNode v = parent.get(field);
        if (v != null && v.isTextual()) {
            String text = v.textValue();
            String masked = masker.mask(text, tally);
            if (!masked.equals(text)) {
                parent.put(field, masked);
            }
        }
    }
}
