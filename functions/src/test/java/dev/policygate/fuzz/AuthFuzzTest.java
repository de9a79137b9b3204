package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeyStore;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.auth.AuthenticationException;
import dev.policygate.core.auth.GatewayAuthenticator;
import dev.policygate.core.auth.JwtVerifier;
import dev.policygate.core.auth.OidcConfig;
import dev.policygate.core.auth.Principal;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes JWT verification and the authenticator in front of it. Properties: a token the fuzzer
 * makes up is never accepted (it cannot sign); a valid token changed anywhere in its decoded
 * header, claims or signature is never accepted; failures are always {@link
 * AuthenticationException} and never echo the credential; only the one stored key authenticates.
 */
class AuthFuzzTest {
    private static final String ISSUER = "https://idp.example.com/";
    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    private static final RSAKey KEY;
    private static final JwtVerifier VERIFIER;
    private static final String VALID;
    private static final String GATEWAY_KEY = "pgk_" + "A".repeat(43);
    private static final GatewayAuthenticator AUTH;

    static {
        try {
            KEY = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
            OidcConfig config = new OidcConfig(ISSUER, "policygate", URI.create("https://idp.example.com/jwks"));
            VERIFIER = new JwtVerifier(config, new ImmutableJWKSet<>(new JWKSet(KEY.toPublicJWK())),
                    Clock.fixed(NOW, ZoneOffset.UTC));
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").build(),
                    new JWTClaimsSet.Builder().issuer(ISSUER).audience("policygate").subject("alice")
                            .expirationTime(Date.from(NOW.plus(Duration.ofMinutes(10))))
                            .claim("groups", List.of("developers")).build());
            jwt.sign(new RSASSASigner(KEY));
            VALID = jwt.serialize();
        } catch (JOSEException e) {
            throw new ExceptionInInitializerError(e);
        }
        String hash = ApiKeys.hash(GATEWAY_KEY);
        ApiKeyRecord record = new ApiKeyRecord(ApiKeys.keyId(hash), hash, "kim", Set.of("developers"), null,
                NOW, false);
        AUTH = new GatewayAuthenticator(Optional.of(VERIFIER), new ApiKeyStore() {
            @Override
            public Optional<ApiKeyRecord> findByHash(String sha256) {
                return sha256.equals(hash) ? Optional.of(record) : Optional.empty();
            }

            @Override
            public void put(ApiKeyRecord r) {
                throw new UnsupportedOperationException();
            }

            @Override
            public List<ApiKeyRecord> list() {
                return List.of(record);
            }

            @Override
            public boolean revoke(String keyId) {
                return false;
            }
        });
    }

    @FuzzTest
    void verify_neverAcceptsAMadeUpToken(@NotNull String token) {
        try {
            Principal p = VERIFIER.verify(token);
            fail("accepted a token the fuzzer made up: " + p);
        } catch (AuthenticationException e) {
            assertNotNull(e.reason());
            if (token.length() >= 12) {
                assertFalse(e.getMessage().contains(token), "the message echoes the token");
            }
        }
    }

    @FuzzTest
    void verify_neverAcceptsATamperedToken(FuzzedDataProvider data) throws AuthenticationException {
        String[] parts = VALID.split("\\.", -1);
        int segment = data.consumeInt(0, 2);
        byte[] decoded = Base64.getUrlDecoder().decode(parts[segment]);
        byte[] changed = decoded.clone();
        int edits = data.consumeInt(1, 4);
        for (int i = 0; i < edits; i++) {
            int mode = data.consumeInt(0, 2);
            if (mode == 0 && changed.length > 0) {
                changed[data.consumeInt(0, changed.length - 1)] = data.consumeByte();
            } else if (mode == 1) {
                changed = Arrays.copyOf(changed, Math.max(0, changed.length - data.consumeInt(1, 8)));
            } else {
                byte[] extra = data.consumeBytes(8);
                byte[] longer = Arrays.copyOf(changed, changed.length + extra.length);
                System.arraycopy(extra, 0, longer, changed.length, extra.length);
                changed = longer;
            }
        }
        if (Arrays.equals(decoded, changed)) {
            assertEquals("alice", VERIFIER.verify(VALID).id());
            return;
        }
        parts[segment] = Base64.getUrlEncoder().withoutPadding().encodeToString(changed);
        String tampered = String.join(".", parts);
        try {
            Principal p = VERIFIER.verify(tampered);
            fail("accepted a tampered token (segment " + segment + "): " + p);
        } catch (AuthenticationException expected) {
            // refused, as it must be
        }
    }

    @FuzzTest
    void authenticate_acceptsOnlyTheStoredKey(FuzzedDataProvider data) {
        Map<String, String> headers = new HashMap<>();
        String[] names = {"x-api-key", "authorization"};
        int n = data.consumeInt(0, 2);
        for (int i = 0; i < n; i++) {
            String value = switch (data.consumeInt(0, 3)) {
                case 0 -> GATEWAY_KEY.substring(0, data.consumeInt(0, GATEWAY_KEY.length()))
                        + data.consumeString(4);
                case 1 -> "Bearer " + data.consumeString(data.consumeInt(0, 200));
                case 2 -> "Bearer " + VALID.substring(0, data.consumeInt(0, VALID.length() - 1));
                default -> data.consumeString(data.consumeInt(0, 200));
            };
            headers.put(data.pickValue(names), value);
        }
        try {
            Principal p = AUTH.authenticate(headers);
            boolean presentedTheKey = headers.values().stream().anyMatch(v -> v.contains(GATEWAY_KEY));
            if (!presentedTheKey) {
                fail("authenticated " + p + " from " + headers);
            }
        } catch (AuthenticationException e) {
            for (String v : headers.values()) {
                // plain words can coincide with the fixed messages ("authorizatio"); a credential
                // worth leaking has digits or symbols
                if (v.strip().length() >= 12 && !v.strip().matches("[A-Za-z .]*")) {
                    assertFalse(e.getMessage().contains(v.strip()), () -> "the message echoes the credential: "
                            + Visibility.printable(e.getMessage()) + " for " + Visibility.printable(headers.toString()));
                }
            }
        }
    }
}
