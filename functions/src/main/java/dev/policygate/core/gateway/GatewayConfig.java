package dev.policygate.core.gateway;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

import java.time.Duration;
import java.util.Objects;

/**
 * The gateway's settings, validated once at start-up. Every field has a safe default.
 *
 * @param maxBodyBytes     largest request body accepted (default 6 MB)
 * @param maxReplyBytes    largest non-streaming upstream reply read (default 32 MB)
 * @param maxSseEventBytes largest single SSE event relayed (default 1 MB)
 * @param modelPattern     RE2J pattern a model name must match in full, else 404
 * @param publicBaseUrl    base URL used in status and approval links
 * @param failOpen         when the write-ahead record cannot be written: false refuses to
 *                         forward (default), true forwards and logs
 * @param sessionWaitMax   upper bound for {@code GET /v1/sessions/{id}?wait=N}
 * @param streamTokenHold  longest token a streamed reply holds back whole (see {@link GatewayLimits})
 * @param streamKeyHold    longest private-key block a streamed reply holds back (see {@link GatewayLimits})
 */
public record GatewayConfig(int maxBodyBytes, int maxReplyBytes, int maxSseEventBytes, String modelPattern,
                            String publicBaseUrl, boolean failOpen, Duration sessionWaitMax, int streamTokenHold,
                            int streamKeyHold) {
    /** With the default stream hold-back limits. */
    public GatewayConfig(int maxBodyBytes, int maxReplyBytes, int maxSseEventBytes, String modelPattern,
                         String publicBaseUrl, boolean failOpen, Duration sessionWaitMax) {
        this(maxBodyBytes, maxReplyBytes, maxSseEventBytes, modelPattern, publicBaseUrl, failOpen, sessionWaitMax,
                GatewayLimits.DEFAULT_STREAM_TOKEN_HOLD, GatewayLimits.DEFAULT_STREAM_KEY_HOLD);
    }

    /** The limits' reply, event and hold-back sizes applied to the other settings. */
    public GatewayConfig(int maxBodyBytes, GatewayLimits limits, String modelPattern, String publicBaseUrl,
                         boolean failOpen, Duration sessionWaitMax) {
        this(maxBodyBytes, limits.maxReplyBytes(), limits.maxSseEventBytes(), modelPattern, publicBaseUrl, failOpen,
                sessionWaitMax, limits.streamTokenHold(), limits.streamKeyHold());
    }

    public static final String DEFAULT_MODEL_PATTERN = "claude-[a-z0-9][a-z0-9.@:_-]{0,127}";

    public GatewayConfig {
        if (maxBodyBytes < 1024 || maxBodyBytes > 64 * 1024 * 1024) {
            throw new IllegalArgumentException("max body bytes must be between 1 KB and 64 MB: " + maxBodyBytes);
        }
        if (maxReplyBytes < 1024) {
            throw new IllegalArgumentException("max reply bytes must be at least 1 KB");
        }
        if (maxSseEventBytes < 1024) {
            throw new IllegalArgumentException("max SSE event bytes must be at least 1 KB");
        }
        Objects.requireNonNull(publicBaseUrl, "publicBaseUrl");
        try {
            Pattern.compile(modelPattern);
        } catch (PatternSyntaxException | NullPointerException e) {
            throw new IllegalArgumentException("model pattern is not a valid RE2 pattern: " + modelPattern);
        }
        if (sessionWaitMax == null || sessionWaitMax.isNegative()) {
            throw new IllegalArgumentException("session wait max must be >= 0");
        }
    }

    public static GatewayConfig defaults(String publicBaseUrl) {
        return new GatewayConfig(6 * 1024 * 1024, 32 * 1024 * 1024, 1024 * 1024, DEFAULT_MODEL_PATTERN,
                publicBaseUrl, false, Duration.ofSeconds(20));
    }

    public GatewayConfig withMaxBodyBytes(int bytes) {
        return new GatewayConfig(bytes, maxReplyBytes, maxSseEventBytes, modelPattern, publicBaseUrl, failOpen,
                sessionWaitMax, streamTokenHold, streamKeyHold);
    }

    public GatewayConfig withModelPattern(String pattern) {
        return new GatewayConfig(maxBodyBytes, maxReplyBytes, maxSseEventBytes, pattern, publicBaseUrl, failOpen,
                sessionWaitMax, streamTokenHold, streamKeyHold);
    }
}
