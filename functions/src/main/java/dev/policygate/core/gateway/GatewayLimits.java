package dev.policygate.core.gateway;

/**
 * The size limits an operator may tune, in one place; each adapter reads them from its own
 * settings (CLI options locally, environment variables on Lambda) and the defaults are safe.
 * Each limit is enforced with a clear error: a request over one is a 400 or 413 naming it, a
 * reply over one a 502 or an SSE {@code error} event.
 *
 * @param maxMessages      most entries in {@code messages} (1..100,000; default 100,000)
 * @param maxTools         most entries in {@code tools}, {@code container.skills} and
 *                         {@code mcp_servers} each (0..512; default 512)
 * @param maxSseEventBytes largest single SSE event relayed (1 KB..64 MB; default 1 MB)
 * @param maxReplyBytes    largest non-streaming reply read from the upstream (1 KB..256 MB; default 32 MB)
 * @param streamTokenHold  longest whitespace-free token a streamed reply holds back whole, so that
 *                         a key or JWT is masked whole (1 KB..1 MB; default 8 KB)
 * @param streamKeyHold    longest private-key block a streamed reply holds back before redacting
 *                         it whole (4 KB..1 MB; default 64 KB)
 */
public record GatewayLimits(int maxMessages, int maxTools, int maxSseEventBytes, int maxReplyBytes,
                            int streamTokenHold, int streamKeyHold) {
    public static final int DEFAULT_MAX_MESSAGES = 100_000;
    public static final int DEFAULT_MAX_TOOLS = 512;
    public static final int DEFAULT_MAX_SSE_EVENT_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_REPLY_BYTES = 32 * 1024 * 1024;
    public static final int DEFAULT_STREAM_TOKEN_HOLD = 8 * 1024;
    public static final int DEFAULT_STREAM_KEY_HOLD = 64 * 1024;

    public GatewayLimits {
        check("max messages", maxMessages, 1, DEFAULT_MAX_MESSAGES);
        check("max tools", maxTools, 0, DEFAULT_MAX_TOOLS);
        check("max SSE event bytes", maxSseEventBytes, 1024, 64 * 1024 * 1024);
        check("max reply bytes", maxReplyBytes, 1024, 256 * 1024 * 1024);
        check("stream token hold", streamTokenHold, 1024, 1024 * 1024);
        check("stream key hold", streamKeyHold, 4096, 1024 * 1024);
    }

    public static GatewayLimits defaults() {
        return new GatewayLimits(DEFAULT_MAX_MESSAGES, DEFAULT_MAX_TOOLS, DEFAULT_MAX_SSE_EVENT_BYTES,
                DEFAULT_MAX_REPLY_BYTES, DEFAULT_STREAM_TOKEN_HOLD, DEFAULT_STREAM_KEY_HOLD);
    }

    public GatewayLimits withMaxReplyBytes(int bytes) {
        return new GatewayLimits(maxMessages, maxTools, maxSseEventBytes, bytes, streamTokenHold, streamKeyHold);
    }

    private static void check(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be " + min + ".." + max + ": " + value);
        }
    }
}
