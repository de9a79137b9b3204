package dev.policygate.adapters.bedrock;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Maps the model a client names (Anthropic's id, such as {@code claude-sonnet-4-5-20250929}) to the
 * Bedrock model id that serves it ({@code us.anthropic.claude-sonnet-4-5-20250929-v1:0}).
 *
 * <p>In order: an explicit override; a name that already is a Bedrock id or ARN of an Anthropic
 * model, unchanged; a dated Anthropic id, as {@code <profilePrefix>anthropic.<id>-v1:0}. Anything
 * else (undated aliases such as {@code claude-sonnet-4-5}, other vendors' models) has no mapping,
 * so the gateway never sends a request to a model the operator did not mean.
 *
 * @param profilePrefix the cross-region inference profile prefix ({@code us.}, {@code eu.},
 *                      {@code apac.}, {@code global.}), or empty for in-region model ids
 * @param overrides     client model name to Bedrock model id
 */
public record BedrockModelIds(String profilePrefix, Map<String, String> overrides) {
    private static final Pattern PREFIX = Pattern.compile("|[a-z]{2,6}\\.");
    private static final Pattern DATED = Pattern.compile("claude-[a-z0-9.-]+-[0-9]{8}");
    private static final Pattern BEDROCK_ID = Pattern.compile(
            "(arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]{0,12}:[a-z-]+/)?([a-z]{2,6}\\.)?anthropic\\.[A-Za-z0-9.:_-]{1,200}");

    public BedrockModelIds {
        Objects.requireNonNull(profilePrefix, "profilePrefix");
        if (!PREFIX.matcher(profilePrefix).matches()) {
            throw new IllegalArgumentException("profilePrefix must be empty or like us. eu. apac. global.");
        }
        overrides = Map.copyOf(overrides);
    }

    /** The default mapping for a prefix, without overrides. */
    public static BedrockModelIds withPrefix(String profilePrefix) {
        return new BedrockModelIds(profilePrefix, Map.of());
    }

    /** The Bedrock model id for {@code model}, or empty when there is none. */
    public Optional<String> bedrockId(String model) {
        if (model == null) {
            return Optional.empty();
        }
        String override = overrides.get(model);
        if (override != null) {
            return Optional.of(override);
        }
        if (BEDROCK_ID.matcher(model).matches()) {
            return Optional.of(model);
        }
        if (DATED.matcher(model).matches()) {
            return Optional.of(profilePrefix + "anthropic." + model + "-v1:0");
        }
        return Optional.empty();
    }

    /** The in-region foundation model id (no inference profile prefix), as CountTokens wants it. */
    static String foundationModel(String bedrockId) {
        return bedrockId.replaceFirst("^(arn:[^/]+/)?[a-z]{2,6}\\.(?=anthropic\\.)", "");
    }
}
