package dev.policygate.e2e;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.policygate.core.auth.OidcConfig;
import dev.policygate.local.LocalGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * OIDC bearer tokens (a local JWKS file) and a masking configuration file (a custom RE2J
 * pattern and the keyed-hash strategy), through the official SDK.
 */
class OidcAndMaskingConfigEndToEndTest {
    private static final String ISSUER = "https://idp.example.test/";

    @TempDir
    static Path data;
    static MockAnthropic mock;
    static LocalGateway gw;
    static RSAKey signingKey;

    @BeforeAll
    static void start() throws Exception {
        mock = new MockAnthropic();
        signingKey = new RSAKeyGenerator(2048).keyID("k1").generate();
        Path jwks = data.resolve("jwks.json");
        Files.writeString(jwks, new JWKSet(signingKey.toPublicJWK()).toString());
        Path masking = data.resolve("masking.json");
        Files.writeString(masking, "{\"strategies\":{\"EMAIL\":\"HASH\"},"
                + "\"patterns\":[{\"name\":\"EMPLOYEE_ID\",\"kind\":\"PII\",\"regex\":\"EMP-[0-9]{6}\"}]}");
        gw = LocalGateway.start(LocalGateway.Options.defaults(data.resolve("state"),
                        RepoPaths.root().resolve("cedar-policies")).withPort(0)
                        .withUpstream(URI.create(mock.baseUrl()), "sk-upstream")
                        .withOidc(new OidcConfig(ISSUER, "policygate", jwks.toUri(), "groups", "email",
                                Duration.ofSeconds(30), 8192))
                        .withMaskingFile(masking),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (mock != null) {
            mock.close();
        }
    }

    static String token(String subject, List<String> groups, Instant expires) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(),
                new JWTClaimsSet.Builder().issuer(ISSUER).audience("policygate").subject(subject)
                        .claim("groups", groups).issueTime(new Date()).expirationTime(Date.from(expires)).build());
        jwt.sign(new RSASSASigner(signingKey));
        return jwt.serialize();
    }

    static AnthropicClient client(String bearer) {
        return AnthropicOkHttpClient.builder().baseUrl(gw.baseUrl()).authToken(bearer).maxRetries(0).build();
    }

    static MessageCreateParams params(String prompt) {
        return MessageCreateParams.builder().model("claude-sonnet-4-5").maxTokens(50).addUserMessage(prompt).build();
    }

    static String text(Message m) {
        return m.content().stream().filter(b -> b.isText()).map(b -> b.asText().text()).collect(Collectors.joining());
    }

    @Test
    void oidcBearerToken_withTheDevelopersGroup_isAllowed_andCustomAndHashedMaskingApply() throws Exception {
        String bearer = token("jane", List.of("developers"), Instant.now().plusSeconds(300));
        Message first = client(bearer).messages().create(params("badge EMP-123456 for ann@example.com"));
        Message second = client(bearer).messages().create(params("again ann@example.com"));

        // the custom pattern is redacted; the email becomes a stable keyed pseudonym
        assertThat(text(first)).startsWith("echo: badge [EMPLOYEE_ID] for [EMAIL:").doesNotContain("ann@example.com");
        String pseudonym = text(first).substring(text(first).indexOf("[EMAIL:"));
        assertThat(text(second)).isEqualTo("echo: again " + pseudonym);
        // the client's bearer token never goes upstream
        assertThat(mock.received.get(0).headers().toString()).doesNotContain(bearer);
    }

    @Test
    void expiredOrForeignTokens_areRefusedWithAnSdkAuthenticationError() throws Exception {
        String expired = token("jane", List.of("developers"), Instant.now().minus(Duration.ofMinutes(10)));
        assertThatThrownBy(() -> client(expired).messages().create(params("hi")))
                .isInstanceOf(UnauthorizedException.class);
        RSAKey other = new RSAKeyGenerator(2048).keyID("k1").generate();
        SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(),
                new JWTClaimsSet.Builder().issuer(ISSUER).audience("policygate").subject("mallory")
                        .claim("groups", List.of("developers")).expirationTime(Date.from(Instant.now().plusSeconds(300)))
                        .build());
        forged.sign(new RSASSASigner(other));
        assertThatThrownBy(() -> client(forged.serialize()).messages().create(params("hi")))
                .isInstanceOf(UnauthorizedException.class);
    }
}
