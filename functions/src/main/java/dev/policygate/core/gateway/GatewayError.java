package dev.policygate.core.gateway;

import java.util.List;

/**
 * A failure that the caller sees as an Anthropic-shaped error. The message is safe to return:
 * it never holds a credential, a stack trace or upstream internals.
 */
public final class GatewayError extends RuntimeException {
    private final int status;
    private final String type;
    private final List<String> policyIds;

    public GatewayError(int status, String type, String safeMessage) {
        this(status, type, safeMessage, List.of());
    }

    public GatewayError(int status, String type, String safeMessage, List<String> policyIds) {
        super(safeMessage, null, false, false);
        this.status = status;
        this.type = type;
        this.policyIds = List.copyOf(policyIds);
    }

    public static GatewayError invalid(String message) {
        return new GatewayError(400, "invalid_request_error", message);
    }

    public static GatewayError notFound(String message) {
        return new GatewayError(404, "not_found_error", message);
    }

    public static GatewayError internal() {
        return new GatewayError(500, "api_error", "Internal gateway error.");
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public List<String> policyIds() {
        return policyIds;
    }
}
