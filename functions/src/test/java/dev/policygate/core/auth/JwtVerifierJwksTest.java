package dev.policygate.core.auth;

import com.sun.net.httpserver.HttpServer;
import dev.policygate.core.auth.AuthenticationException.Reason;
import dev.policygate.core.auth.JwtVerifier.JwksCachePolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.policygate.core.auth.TestTokens.validClaims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The production key sources against a loopback JWKS endpoint and a local JWKS file. */
class JwtVerifierJwksTest {
    /** Short enough that a test sees the cache expire; same shape as the defaults. */
    private static final JwksCachePolicy FAST = new JwksCachePolicy(Duration.ofMillis(300), Duration.ofMillis(100),
            Duration.ofMillis(50), Duration.ofMillis(20), Duration.ofMinutes(1));

    private final TestTokens tokens = TestTokens.SHARED;
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicInteger requests = new AtomicInteger();
    private HttpServer server;
    private URI jwksUri;

    @BeforeEach
    void startJwksEndpoint() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/jwks", exchange -> {
            requests.incrementAndGet();
            byte[] body = failing.get() ? "boom".getBytes(StandardCharsets.UTF_8)
                    : tokens.publicKeys().toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(failing.get() ? 500 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        jwksUri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks");
    }

    @AfterEach
    void stopJwksEndpoint() {
        server.stop(0);
    }

    @Test
    void verify_servesStaleKeys_whenJwksEndpointFailsAfterFirstFetch() throws Exception {
        // GIVEN a verifier that fetched the JWKS once
        JwtVerifier verifier = remoteVerifier();
        String token = tokens.rs256(validClaims().build());
        assertThat(verifier.verify(token).id()).isEqualTo("alice");

        // WHEN the endpoint starts failing and the cache has expired
        failing.set(true);
        Thread.sleep(FAST.timeToLive().toMillis() + 100);
        Principal principal = verifier.verify(token);

        // THEN the stale keys are still served, after a refresh was attempted
        assertThat(principal.id()).isEqualTo("alice");
        assertThat(requests.get()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void verify_reportsUnavailable_whenJwksEndpointFailsAndNothingIsCached() {
        // GIVEN an endpoint that has never answered
        failing.set(true);
        JwtVerifier verifier = remoteVerifier();

        // WHEN a token is verified
        AuthenticationException e = catchThrowableOfType(AuthenticationException.class,
                () -> verifier.verify(tokens.rs256(validClaims().build())));

        // THEN the caller learns that keys are unavailable, not that the token is bad
        assertThat(e.reason()).isEqualTo(Reason.UNAVAILABLE);
    }

    @Test
    void verify_usesLocalJwksFile_forFileUri(@TempDir Path dir) throws Exception {
        // GIVEN a JWKS file
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, tokens.publicKeys().toString());
        OidcConfig config = new OidcConfig(TestTokens.ISSUER, TestTokens.AUDIENCE, jwks.toUri());

        // WHEN a verifier is built from the configuration alone
        JwtVerifier verifier = new JwtVerifier(config, JwtVerifier.keySource(config.jwksUri(), FAST), TestTokens.CLOCK);

        // THEN tokens signed by its keys verify
        assertThat(verifier.verify(tokens.es256(validClaims().build())).id()).isEqualTo("alice");
    }

    @Test
    void constructor_buildsRemoteSourceLazily_withoutContactingTheIssuer() {
        // GIVEN / WHEN a verifier is built from configuration with the default cache policy
        new JwtVerifier(new OidcConfig(TestTokens.ISSUER, TestTokens.AUDIENCE, jwksUri));

        // THEN nothing was fetched during construction (safe before a SnapStart snapshot)
        assertThat(requests.get()).isZero();
    }

    private JwtVerifier remoteVerifier() {
        OidcConfig config = new OidcConfig(TestTokens.ISSUER, TestTokens.AUDIENCE, jwksUri);
        return new JwtVerifier(config, JwtVerifier.keySource(config.jwksUri(), FAST), TestTokens.CLOCK);
    }
}
