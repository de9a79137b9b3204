package dev.policygate.core.analysis;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.detect.Detection;
import dev.policygate.core.detect.JoinedText;
import dev.policygate.core.gateway.GatewayError;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.ReplyMasker;
import dev.policygate.core.text.PromptNormalizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses and validates a Messages API request body and extracts what policy needs: the model,
 * the text (normalised), the detections, and the tools, skills and MCP servers asked for.
 *
 * <p>Validation covers the fields the gateway relies on; everything else passes to the upstream
 * untouched, so new API features keep working. Content blocks of a type the gateway does not
 * know are not rejected, but all their string values count as prompt text, so nothing escapes
 * policy by hiding in an unfamiliar block.
 */
public final class RequestAnalyzer {
    /** The operation the body is for: the fields required differ. */
    public enum Operation { MESSAGES, COUNT_TOKENS }

    static final int MAX_MODEL_LENGTH = 256;
    static final int MAX_MESSAGES = 100_000;
    static final int MAX_TOOLS = 512;
    static final int MAX_NAME_LENGTH = 256;
    private static final Set<String> NON_TEXT_KEYS = ReplyMasker.REQUEST_NON_TEXT_KEYS;

    private final DetectorSet detectors;
    private final int maxMessages;
    private final int maxTools;

    /** An analyser with the default limits: 100,000 messages and 512 tools (and as many skills and MCP servers). */
    public RequestAnalyzer(DetectorSet detectors) {
        this(detectors, MAX_MESSAGES, MAX_TOOLS);
    }

    /**
     * An analyser with its own limits. A request over a limit is a 400 naming it.
     *
     * @param maxMessages most entries in {@code messages} (1..100,000)
     * @param maxTools    most entries in {@code tools}, {@code container.skills} and {@code mcp_servers} (0..512)
     */
    public RequestAnalyzer(DetectorSet detectors, int maxMessages, int maxTools) {
        if (maxMessages < 1 || maxMessages > MAX_MESSAGES) {
            throw new IllegalArgumentException("max messages must be 1.." + MAX_MESSAGES + ": " + maxMessages);
        }
        if (maxTools < 0 || maxTools > MAX_TOOLS) {
            throw new IllegalArgumentException("max tools must be 0.." + MAX_TOOLS + ": " + maxTools);
        }
        this.detectors = detectors;
        this.maxMessages = maxMessages;
        this.maxTools = maxTools;
    }

    /** Decodes UTF-8 strictly: invalid sequences are a 400, never silently replaced. */
    public static String decodeUtf8(byte[] body) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw GatewayError.invalid("The request body is not valid UTF-8.");
        }
    }

    public AnalysedRequest analyse(byte[] body, Operation op) {
        if (body.length == 0) {
            throw GatewayError.invalid("The request body is empty; expected a JSON object.");
        }
        String text = decodeUtf8(body);
        JsonNode root;
        try {
            root = Json.mapper().readTree(text);
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw GatewayError.invalid("The request body is not valid JSON" + where + ".");
        }
        if (root == null || !root.isObject()) {
            throw GatewayError.invalid("The request body must be a JSON object.");
        }
        ObjectNode json = (ObjectNode) root;

        String model = requiredString(json, "model", MAX_MODEL_LENGTH);
        long maxTokens = 0;
        if (op == Operation.MESSAGES) {
            JsonNode mt = json.get("max_tokens");
            if (mt == null || mt.isNull()) {
                throw GatewayError.invalid("max_tokens: Field required");
            }
            if (!mt.isIntegralNumber() || !mt.canConvertToLong() || mt.asLong() < 1) {
                throw GatewayError.invalid("max_tokens: Input should be a positive integer");
            }
            maxTokens = mt.asLong();
        }
        boolean stream = false;
        JsonNode st = json.get("stream");
        if (st != null && !st.isNull()) {
            if (!st.isBoolean()) {
                throw GatewayError.invalid("stream: Input should be a valid boolean");
            }
            stream = st.asBoolean();
        }
        if (op == Operation.COUNT_TOKENS && stream) {
            throw GatewayError.invalid("stream: not supported for count_tokens");
        }

        JoinedText raw = new JoinedText(Math.min(text.length(), 1 << 20));
        long extraTokens = 0;
        JsonNode system = json.get("system");
        if (system != null && !system.isNull()) {
            if (system.isTextual()) {
                raw.append(system.asText());
            } else if (system.isArray()) {
                int i = 0;
                for (JsonNode block : system) {
                    if (!block.isObject() || !"text".equals(block.path("type").asText(null))
                            || !block.path("text").isTextual()) {
                        throw GatewayError.invalid("system." + i + ": Input should be a text block");
                    }
                    raw.append(block.get("text").asText());
                    i++;
                }
            } else {
                throw GatewayError.invalid("system: Input should be a string or a list of text blocks");
            }
        }

        JsonNode messages = json.get("messages");
        if (messages == null || !messages.isArray()) {
            throw GatewayError.invalid("messages: Field required (a list of messages)");
        }
        if (messages.isEmpty() || messages.size() > maxMessages) {
            throw GatewayError.invalid("messages: must hold between 1 and " + maxMessages + " messages");
        }
        int mi = 0;
        for (JsonNode message : messages) {
            String at = "messages." + mi;
            if (!message.isObject()) {
                throw GatewayError.invalid(at + ": Input should be an object");
            }
            String role = message.path("role").asText("");
            // Claude Code sends system turns inside messages; their content is prompt text like any other
            if (!role.equals("user") && !role.equals("assistant") && !role.equals("system")) {
                throw GatewayError.invalid(at + ".role: Input should be 'user', 'assistant' or 'system'");
            }
            JsonNode content = message.get("content");
            if (content == null || content.isNull()) {
                throw GatewayError.invalid(at + ".content: Field required");
            }
            if (content.isTextual()) {
                raw.append(content.asText());
            } else if (content.isArray()) {
                int bi = 0;
                for (JsonNode block : content) {
                    extraTokens += block(raw, block, at + ".content." + bi);
                    bi++;
                }
            } else {
                throw GatewayError.invalid(at + ".content: Input should be a string or a list of content blocks");
            }
            mi++;
        }

        List<String> tools = new ArrayList<>();
        JsonNode toolsNode = json.get("tools");
        if (toolsNode != null && !toolsNode.isNull()) {
            if (!toolsNode.isArray() || toolsNode.size() > maxTools) {
                throw GatewayError.invalid("tools: Input should be a list of at most " + maxTools + " tools");
            }
            int ti = 0;
            Set<String> seen = new HashSet<>();
            for (JsonNode tool : toolsNode) {
                if (!tool.isObject()) {
                    throw GatewayError.invalid("tools." + ti + ": Input should be an object");
                }
                String name = requiredString((ObjectNode) tool, "name", MAX_NAME_LENGTH, "tools." + ti + ".");
                if (!seen.add(name)) {
                    throw GatewayError.invalid("tools: tool names must be unique (" + name + ")");
                }
                tools.add(name);
                // tool descriptions and schemas reach the model too: they are prompt text
                collectStrings(raw, tool);
                ti++;
            }
        }

        List<String> skills = new ArrayList<>();
        JsonNode container = json.get("container");
        if (container != null && container.isObject()) {
            JsonNode sk = container.get("skills");
            if (sk != null && !sk.isNull()) {
                if (!sk.isArray() || sk.size() > maxTools) {
                    throw GatewayError.invalid("container.skills: Input should be a list");
                }
                int si = 0;
                for (JsonNode skill : sk) {
                    if (!skill.isObject()) {
                        throw GatewayError.invalid("container.skills." + si + ": Input should be an object");
                    }
                    skills.add(requiredString((ObjectNode) skill, "skill_id", MAX_NAME_LENGTH,
                            "container.skills." + si + "."));
                    si++;
                }
            }
        } else if (container != null && !container.isNull() && !container.isTextual()) {
            throw GatewayError.invalid("container: Input should be a string or an object");
        }

        List<String> mcp = new ArrayList<>();
        JsonNode mcpNode = json.get("mcp_servers");
        if (mcpNode != null && !mcpNode.isNull()) {
            if (!mcpNode.isArray() || mcpNode.size() > maxTools) {
                throw GatewayError.invalid("mcp_servers: Input should be a list");
            }
            int ci = 0;
            for (JsonNode server : mcpNode) {
                if (!server.isObject()) {
                    throw GatewayError.invalid("mcp_servers." + ci + ": Input should be an object");
                }
                mcp.add(requiredString((ObjectNode) server, "name", MAX_NAME_LENGTH, "mcp_servers." + ci + "."));
                ci++;
            }
        }

        String rawText = raw.toString();
        Set<DataClass> detected = new LinkedHashSet<>();
        Set<DataClass> acrossParts = Set.of();
        for (Detection d : detectors.scan(rawText)) {
            detected.add(d.dataClass());
            if (raw.crossesJoin(d)) {
                acrossParts = acrossParts.isEmpty() ? new LinkedHashSet<>() : acrossParts;
                acrossParts.add(d.dataClass());
            }
        }
        String normalised = PromptNormalizer.normalise(rawText);
        long estimated = (rawText.length() + 3L) / 4 + extraTokens;
        return new AnalysedRequest(json, model, maxTokens, stream, rawText, normalised, detected, acrossParts, tools,
                skills, mcp, estimated);
    }

    /**
     * The classes detection finds in {@code request}'s prompt text, read exactly as {@link #analyse}
     * reads it: for checking a masked copy of a request that was analysed before. Throws a
     * {@link GatewayError} where {@code analyse} would (a masked copy can fail where its original
     * passed, for instance when masking made two tool names equal).
     */
    public Set<DataClass> detectedIn(ObjectNode request) {
        ObjectNode probe = request.deepCopy();
        // read as count_tokens reads it: the same text, without the Messages-only fields
        probe.remove("stream");
        byte[] body;
        try {
            body = Json.mapper().writeValueAsBytes(probe);
        } catch (JacksonException e) {
            throw GatewayError.internal();
        }
        return analyse(body, Operation.COUNT_TOKENS).detected();
    }

    /** Appends a content block's text; returns extra estimated tokens (images, binary documents). */
    private long block(JoinedText raw, JsonNode block, String at) {
        if (!block.isObject() || !block.path("type").isTextual()) {
            throw GatewayError.invalid(at + ": Input should be a content block with a type");
        }
        String type = block.get("type").asText();
        switch (type) {
            case "text" -> {
                if (!block.path("text").isTextual()) {
                    throw GatewayError.invalid(at + ".text: Field required");
                }
                raw.append(block.get("text").asText());
                return 0;
            }
            case "image" -> {
                checkSource(block, at);
                return 1600;
            }
            case "document" -> {
                JsonNode source = checkSource(block, at);
                // the title, context, text sources and URLs are text; base64 PDFs are skipped by
                // collectStrings and count as extra tokens only
                collectStrings(raw, block);
                return "base64".equals(source.path("type").asText(""))
                        ? Math.max(1, source.path("data").asText("").length() / 8) : 0;
            }
            case "redacted_thinking" -> {
                return 0;
            }
            case "tool_use", "server_tool_use", "mcp_tool_use" -> {
                if (!block.path("name").isTextual()) {
                    throw GatewayError.invalid(at + ".name: Field required");
                }
                collectStrings(raw, block.get("input"));
                return 0;
            }
            default -> {
                // tool_result, thinking, search_result, and types added after this code was written
                collectStrings(raw, block);
                return 0;
            }
        }
    }

    private static JsonNode checkSource(JsonNode block, String at) {
        JsonNode source = block.get("source");
        if (source == null || !source.isObject() || !source.path("type").isTextual()) {
            throw GatewayError.invalid(at + ".source: Field required");
        }
        return source;
    }

    /** Collects every string value, skipping identifiers and binary payloads. */
    private static void collectStrings(JoinedText raw, JsonNode node) {
        if (node == null || node.isNull()) {
            return;
        }
        if (node.isTextual()) {
            raw.append(node.asText());
        } else if (node.isArray()) {
            for (JsonNode n : node) {
                collectStrings(raw, n);
            }
        } else if (node.isObject()) {
            boolean base64 = "base64".equals(node.path("type").asText(null));
            Iterator<Map.Entry<String, JsonNode>> it = node.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String k = e.getKey();
                if (NON_TEXT_KEYS.contains(k) || (base64 && k.equals("data"))) {
                    continue;
                }
                collectStrings(raw, e.getValue());
            }
        }
    }

    private static String requiredString(ObjectNode json, String field, int max) {
        return requiredString(json, field, max, "");
    }

    private static String requiredString(ObjectNode json, String field, int max, String prefix) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            throw GatewayError.invalid(prefix + field + ": Field required");
        }
        if (!n.isTextual()) {
            throw GatewayError.invalid(prefix + field + ": Input should be a valid string");
        }
        String s = n.asText();
        if (s.isEmpty() || s.length() > max) {
            throw GatewayError.invalid(prefix + field + ": must be 1.." + max + " characters");
        }
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                throw GatewayError.invalid(prefix + field + ": must not contain control characters");
            }
        }
        return s;
    }

}
