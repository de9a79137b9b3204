package dev.policygate.aws.lambda;

import dev.policygate.core.gateway.GatewayLimits;

import java.util.Map;

/**
 * The gateway's tunable limits ({@link GatewayLimits}) from the Lambda environment. Unset means
 * the default; a bad value stops the function at start-up with a message naming the variable.
 * On Lambda a complete reply must fit the 6 MB response, so replies above 4 MB are refused.
 */
final class LimitSettings {
    static final String MAX_MESSAGES = "POLICYGATE_MAX_MESSAGES";
    static final String MAX_TOOLS = "POLICYGATE_MAX_TOOLS";
    static final String MAX_SSE_EVENT_BYTES = "POLICYGATE_MAX_SSE_EVENT_BYTES";
    static final String MAX_REPLY_BYTES = "POLICYGATE_MAX_REPLY_BYTES";
    static final String STREAM_TOKEN_HOLD = "POLICYGATE_STREAM_TOKEN_HOLD";
    static final String STREAM_KEY_HOLD = "POLICYGATE_STREAM_KEY_HOLD";

    private LimitSettings() {
    }

    static GatewayLimits fromEnvironment(Map<String, String> env) {
        int reply = integer(env, MAX_REPLY_BYTES, LambdaWiring.MAX_REPLY_BYTES, 1024, LambdaWiring.MAX_REPLY_BYTES);
        return new GatewayLimits(
                integer(env, MAX_MESSAGES, GatewayLimits.DEFAULT_MAX_MESSAGES, 1, GatewayLimits.DEFAULT_MAX_MESSAGES),
                integer(env, MAX_TOOLS, GatewayLimits.DEFAULT_MAX_TOOLS, 0, GatewayLimits.DEFAULT_MAX_TOOLS),
                integer(env, MAX_SSE_EVENT_BYTES, GatewayLimits.DEFAULT_MAX_SSE_EVENT_BYTES, 1024, 4 * 1024 * 1024),
                reply,
                integer(env, STREAM_TOKEN_HOLD, GatewayLimits.DEFAULT_STREAM_TOKEN_HOLD, 1024, 1024 * 1024),
                integer(env, STREAM_KEY_HOLD, GatewayLimits.DEFAULT_STREAM_KEY_HOLD, 4096, 1024 * 1024));
    }

    private static int integer(Map<String, String> env, String name, int fallback, int min, int max) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(name + " must be " + min + ".." + max);
        }
        return n;
    }
}
