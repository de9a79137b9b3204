package dev.policygate.aws.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The Anthropic API key, held in Secrets Manager. Fetched on first use, never at construction:
 * a SnapStart snapshot taken after INIT then holds no secret, and INIT makes no AWS call. The
 * value is cached and fetched again after {@link #REFRESH}, so that a rotated key takes effect
 * without a redeploy; if that fetch fails the cached key stays in use.
 *
 * <p>The secret is either the key as plain text or a JSON object with an {@code api_key} field.
 * The key never appears in a log line, an exception message or {@link #toString()}.
 * Thread-safe.
 */
final class SecretsManagerApiKey implements Supplier<String> {
    static final Duration REFRESH = Duration.ofMinutes(15);
    /** After a failed refresh, how long the cached key is used before asking again. */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofMinutes(1);
    private static final Logger LOG = Logger.getLogger(SecretsManagerApiKey.class.getName());
    private static final int MAX_KEY_LENGTH = 1024;

    private final SecretsManagerClient client;
    private final String secretId;
    private final Clock clock;
    private String key;
    private Instant nextFetch;

    SecretsManagerApiKey(SecretsManagerClient client, String secretId, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.secretId = Objects.requireNonNull(secretId, "secretId");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * @throws IllegalStateException if no key has been read yet and Secrets Manager cannot give one
     */
    @Override
    public synchronized String get() {
        Instant now = clock.instant();
        if (key != null && now.isBefore(nextFetch)) {
            return key;
        }
        try {
            key = fetch();
            nextFetch = now.plus(REFRESH);
        } catch (IllegalStateException e) {
            if (key == null) {
                throw e;
            }
            LOG.warning(e.getMessage() + "; the cached Anthropic API key stays in use");
            nextFetch = now.plus(RETRY_AFTER_FAILURE);
        }
        return key;
    }

    private String fetch() {
        String secret;
        try {
            secret = client.getSecretValue(b -> b.secretId(secretId)).secretString();
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? e.getClass().getSimpleName()
                    : e.awsErrorDetails().errorCode();
            throw new IllegalStateException("Secrets Manager GetSecretValue " + secretId + " failed (" + code
                    + ", HTTP " + e.statusCode() + ", request id " + e.requestId() + ")");
        } catch (SdkException e) {
            throw new IllegalStateException("Secrets Manager GetSecretValue " + secretId + " could not be completed ("
                    + e.getClass().getSimpleName() + ")");
        }
        return parse(secret);
    }

    /** The key from a plain-text secret or from {@code {"api_key": "..."}}. */
    private String parse(String secret) {
        String value = secret == null ? "" : secret.trim();
        if (value.startsWith("{")) {
            try {
                JsonNode field = Json.mapper().readTree(value).get("api_key");
                value = field != null && field.isTextual() ? field.asText().trim() : "";
            } catch (IOException e) {
                // the parser's message would quote the secret
                value = "";
            }
        }
        if (value.isEmpty() || value.length() > MAX_KEY_LENGTH || !value.chars().allMatch(c -> c > 32 && c < 127)) {
            throw new IllegalStateException("secret " + secretId + " holds no usable API key (expected the key as "
                    + "plain text, or a JSON object with an api_key field, printable ASCII)");
        }
        return value;
    }

    @Override
    public String toString() {
        return "SecretsManagerApiKey[" + secretId + "]";
    }
}
