package dev.policygate.aws.lambda;

import com.fasterxml.jackson.databind.node.TextNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link SecretsManagerApiKey} against a stand-in for the Secrets Manager JSON protocol on
 * 127.0.0.1 (no Secrets Manager emulator is pinned), which can also answer with an error.
 */
class SecretsManagerApiKeyTest {
    private static final String ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:anthropic-AbCdEf";
    private static final String KEY = "sk-ant-api03-first-key";

    private HttpServer server;
    private SecretsManagerClient client;
    private final AtomicInteger calls = new AtomicInteger();
    private final List<String> targets = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> secretString = new AtomicReference<>(KEY);
    private final AtomicReference<Boolean> failing = new AtomicReference<>(false);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));

    @BeforeEach
    void startFakeSecretsManager() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        server.createContext("/", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                calls.incrementAndGet();
                targets.add(ex.getRequestHeaders().getFirst("X-Amz-Target"));
                String body;
                int status;
                if (failing.get()) {
                    status = 400;
                    body = "{\"__type\":\"ResourceNotFoundException\","
                            + "\"message\":\"Secrets Manager can't find the specified secret.\"}";
                } else {
                    status = 200;
                    body = "{\"ARN\":\"" + ARN + "\",\"Name\":\"anthropic\",\"VersionId\":\"v1\","
                            + "\"SecretString\":" + TextNode.valueOf(secretString.get())
                            + ",\"CreatedDate\":1.7956008E9}";
                }
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("content-type", "application/x-amz-json-1.1");
                ex.sendResponseHeaders(status, b.length);
                ex.getResponseBody().write(b);
            }
        });
        server.start();
        client = SecretsManagerClient.builder()
                .region(Region.EU_WEST_1)
                .endpointOverride(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .httpClient(UrlConnectionHttpClient.builder().build())
                .build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.stop(0);
    }

    @Test
    void get_fetchesTheSecretOnFirstUseOnly_neverAtConstruction() {
        // GIVEN a supplier over the secret
        SecretsManagerApiKey key = new SecretsManagerApiKey(client, ARN, clock);
        // THEN building it asked Secrets Manager nothing
        assertThat(calls).hasValue(0);
        // WHEN the key is used twice
        String first = key.get();
        String second = key.get();
        // THEN one GetSecretValue call served both
        assertThat(first).isEqualTo(KEY);
        assertThat(second).isEqualTo(KEY);
        assertThat(calls).hasValue(1);
        assertThat(targets).containsExactly("secretsmanager.GetSecretValue");
    }

    @Test
    void get_fetchesAgainAfterTheRefreshInterval_soThatARotatedKeyTakesEffect() {
        // GIVEN a key in use
        SecretsManagerApiKey key = new SecretsManagerApiKey(client, ARN, clock);
        key.get();
        // WHEN the secret rotates and the refresh interval passes
        secretString.set("sk-ant-api03-rotated-key");
        clock.advance(SecretsManagerApiKey.REFRESH.minusSeconds(1));
        String beforeRefresh = key.get();
        clock.advance(Duration.ofSeconds(1));
        // THEN the new key is used from then on
        assertThat(beforeRefresh).isEqualTo(KEY);
        assertThat(key.get()).isEqualTo("sk-ant-api03-rotated-key");
        assertThat(calls).hasValue(2);
    }

    @Test
    void get_keepsTheCachedKey_whenARefreshFails() {
        // GIVEN a key in use, then Secrets Manager failing
        SecretsManagerApiKey key = new SecretsManagerApiKey(client, ARN, clock);
        key.get();
        failing.set(true);
        clock.advance(SecretsManagerApiKey.REFRESH);
        // WHEN / THEN the cached key still serves, and the next attempt waits a minute
        assertThat(key.get()).isEqualTo(KEY);
        assertThat(key.get()).isEqualTo(KEY);
        assertThat(calls).hasValue(2);
        clock.advance(SecretsManagerApiKey.RETRY_AFTER_FAILURE);
        failing.set(false);
        assertThat(key.get()).isEqualTo(KEY);
        assertThat(calls).hasValue(3);
    }

    @Test
    void get_failsNamingTheSecretAndTheErrorCode_whenNoKeyCanBeRead() {
        // GIVEN a secret that cannot be read
        failing.set(true);
        SecretsManagerApiKey key = new SecretsManagerApiKey(client, ARN, clock);
        // WHEN / THEN the failure names the secret and the error code
        assertThatThrownBy(key::get).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(ARN).hasMessageContaining("ResourceNotFoundException");
    }

    @Test
    void get_readsTheApiKeyField_whenTheSecretIsAJsonObject() {
        secretString.set("{\"api_key\":\"sk-ant-api03-from-json\"}");
        assertThat(new SecretsManagerApiKey(client, ARN, clock).get()).isEqualTo("sk-ant-api03-from-json");
    }

    @Test
    void get_neverRepeatsTheSecret_whenItHoldsNoUsableKey() {
        // GIVEN a secret that is JSON without an api_key field
        secretString.set("{\"anthropic\":\"sk-ant-api03-wrong-field\"}");
        SecretsManagerApiKey key = new SecretsManagerApiKey(client, ARN, clock);
        // WHEN / THEN the error explains the expected shape without quoting the value
        assertThatThrownBy(key::get).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("api_key").hasMessageNotContaining("sk-ant-api03-wrong-field");
        assertThat(key.toString()).doesNotContain("sk-ant");
    }

    /** A clock the test moves by hand. */
    private static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
