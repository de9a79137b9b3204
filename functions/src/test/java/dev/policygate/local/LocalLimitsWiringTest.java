package dev.policygate.local;

import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.gateway.GatewayLimits;
import dev.policygate.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The limits an operator sets reach the running local gateway (each is enforced at its boundary). */
class LocalLimitsWiringTest {
    @Test
    void messageAndToolLimits_fromTheOptions_areEnforced(@TempDir Path dir) throws Exception {
        LocalGateway.Options o = LocalGateway.Options.defaults(dir, Fixtures.root().resolve("cedar-policies"))
                .withPort(0).withLimits(new GatewayLimits(2, 1, 4096, 64 * 1024, 1024, 4096));
        try (LocalGateway gw = LocalGateway.start(o, new PrintStream(OutputStream.nullOutputStream()))) {
            String key = ApiKeys.newKey();
            String hash = ApiKeys.hash(key);
            FileApiKeyStore.open(dir).put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, "dev", Set.of("developers"),
                    "dev@example.com", Instant.now(), false));
            String two = "{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}";
            assertThat(post(gw, key, "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":16,\"messages\":[" + two
                    + ",{\"role\":\"user\",\"content\":\"c\"}]}").statusCode()).isEqualTo(400);
            assertThat(post(gw, key, "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":16,\"messages\":["
                    + "{\"role\":\"user\",\"content\":\"c\"}]}").statusCode()).isEqualTo(200);
            String tool = "{\"name\":\"t%d\",\"input_schema\":{\"type\":\"object\"}}";
            HttpResponse<String> tooManyTools = post(gw, key, "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":16,"
                    + "\"tools\":[" + String.format(tool, 1) + "," + String.format(tool, 2) + "],"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"c\"}]}");
            assertThat(tooManyTools.statusCode()).isEqualTo(400);
            assertThat(tooManyTools.body()).contains("tools");
        }
    }

    private static HttpResponse<String> post(LocalGateway gw, String key, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/v1/messages"))
                .header("x-api-key", key).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
