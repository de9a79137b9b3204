package dev.policygate.core.decision;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds the exact Cedar context records the gateway sends for each action, so that the gateway,
 * the policy test cases and the CLI cannot drift apart. The keys and types match
 * {@code cedar-policies/policygate.cedarschema}; see {@code cedar-policies/README.md} for what
 * each field means. The maps are unmodifiable; sets are sorted so that recordings are stable.
 */
public final class Contexts {
    /** {@code context.operation}: a Messages API call. */
    public static final String OPERATION_MESSAGES = "messages";
    /** {@code context.operation}: a token count. */
    public static final String OPERATION_COUNT_TOKENS = "count_tokens";
    /** {@code context.operation}: the model list. */
    public static final String OPERATION_LIST_MODELS = "list_models";
    /** {@code context.direction}: the principal is the model that will receive the prompt. */
    public static final String DIRECTION_PROMPT = "prompt";
    /** {@code context.direction}: the principal is the user who reads the reply. */
    public static final String DIRECTION_REPLY = "reply";

    private static final Set<String> OPERATIONS = Set.of(OPERATION_MESSAGES, OPERATION_COUNT_TOKENS,
            OPERATION_LIST_MODELS);
    private static final Set<String> DIRECTIONS = Set.of(DIRECTION_PROMPT, DIRECTION_REPLY);

    /** The model named in default contexts (policy test cases, CLI). */
    static final String DEFAULT_MODEL = "claude-sonnet-4-5";
    /** The source address in default contexts (policy test cases, CLI). */
    static final String DEFAULT_SOURCE_IP = "127.0.0.1";
    /** The {@code max_tokens} in default contexts (policy test cases, CLI). */
    static final long DEFAULT_MAX_TOKENS = 1024;
    /** The approver group in the default {@code approve} context. */
    static final String DEFAULT_APPROVER_GROUP = "approvers";

    private Contexts() {
    }

    /**
     * The context of {@code invoke_model}.
     *
     * @param normalisedPrompt     the normalised system and message text
     * @param detections           detection labels such as {@code "pii:EMAIL"} (null: none)
     * @param maxTokens            the request's {@code max_tokens} (0 when the operation has none)
     * @param stream               whether the reply is streamed
     * @param estimatedInputTokens the gateway's estimate of the prompt size
     * @param approvalGranted      whether a human approved this request
     * @param approver             the approver's user id, or null
     * @param sourceIp             the caller's address (IPv4 or IPv6)
     * @param operation            {@code messages}, {@code count_tokens} or {@code list_models}
     * @param tools                names of the declared tools (null: none)
     * @param skills               ids of the declared skills (null: none)
     * @param mcpServers           names of the declared MCP servers (null: none)
     */
    public static Map<String, Object> invokeModel(String normalisedPrompt, Set<String> detections, long maxTokens,
                                                  boolean stream, long estimatedInputTokens, boolean approvalGranted,
                                                  String approver, String sourceIp, String operation,
                                                  Set<String> tools, Set<String> skills, Set<String> mcpServers) {
        if (!OPERATIONS.contains(operation)) {
            throw new IllegalArgumentException("operation must be one of " + new TreeSet<>(OPERATIONS) + ": " + operation);
        }
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("prompt", normalisedPrompt == null ? "" : normalisedPrompt);
        context.put("detections", sorted(detections));
        context.put("max_tokens", maxTokens);
        context.put("stream", stream);
        context.put("estimated_input_tokens", estimatedInputTokens);
        context.put("approval", approval(approvalGranted, approver));
        context.put("source_ip", new IpAddress(Objects.requireNonNull(sourceIp, "sourceIp")));
        context.put("operation", operation);
        context.put("tools", sorted(tools));
        context.put("skills", sorted(skills));
        context.put("mcp_servers", sorted(mcpServers));
        return Collections.unmodifiableMap(context);
    }

    /**
     * The context of {@code use_tool} (a tool or an MCP server) and {@code use_skill}: one request
     * per declared item.
     */
    public static Map<String, Object> useItem(String model, Set<String> detections, boolean stream,
                                              boolean approvalGranted, String approver, String sourceIp) {
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("model", Objects.requireNonNull(model, "model"));
        context.put("detections", sorted(detections));
        context.put("stream", stream);
        context.put("approval", approval(approvalGranted, approver));
        context.put("source_ip", new IpAddress(Objects.requireNonNull(sourceIp, "sourceIp")));
        return Collections.unmodifiableMap(context);
    }

    /** The context of {@code read_unmasked}: {@code "prompt"} or {@code "reply"}. */
    public static Map<String, Object> readUnmasked(String direction) {
        if (!DIRECTIONS.contains(direction)) {
            throw new IllegalArgumentException("direction must be \"prompt\" or \"reply\": " + direction);
        }
        return Map.of("direction", direction);
    }

    /** The context of {@code approve}: the approver group named by the deciding {@code @approval}. */
    public static Map<String, Object> approve(String group) {
        return Map.of("group", EntityRef.group(Objects.requireNonNull(group, "group")));
    }

    /** The context of {@code read_session}: empty. */
    public static Map<String, Object> readSession() {
        return Map.of();
    }

    /** The {@code Approval} record; {@code approver} is left out when null. */
    public static Map<String, Object> approval(boolean granted, String approver) {
        Map<String, Object> approval = new LinkedHashMap<>();
        approval.put("granted", granted);
        if (approver != null) {
            approval.put("approver", approver);
        }
        return Collections.unmodifiableMap(approval);
    }

    /**
     * A complete context for {@code action} with neutral values: empty prompt and sets, a
     * 1024-token budget, no streaming, no approval, source 127.0.0.1, operation
     * {@code messages}, model {@code claude-sonnet-4-5}, direction {@code reply}, approver group
     * {@code approvers}. Policy test cases and the CLI start from these and override what they name.
     */
    public static Map<String, Object> defaults(Action action) {
        return switch (Objects.requireNonNull(action, "action")) {
            case invoke_model -> invokeModel("", Set.of(), DEFAULT_MAX_TOKENS, false, 0, false, null,
                    DEFAULT_SOURCE_IP, OPERATION_MESSAGES, Set.of(), Set.of(), Set.of());
            case use_tool, use_skill -> useItem(DEFAULT_MODEL, Set.of(), false, false, null, DEFAULT_SOURCE_IP);
            case read_unmasked -> readUnmasked(DIRECTION_REPLY);
            case approve -> approve(DEFAULT_APPROVER_GROUP);
            case read_session -> readSession();
        };
    }

    private static Set<String> sorted(Collection<String> values) {
        return values == null ? Set.of() : Collections.unmodifiableSet(new TreeSet<>(values));
    }
}
