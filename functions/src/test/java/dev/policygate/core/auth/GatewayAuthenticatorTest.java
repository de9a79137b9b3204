package dev.policygate.core.auth;

import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import dev.policygate.core.auth.AuthenticationException.Reason;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static dev.policygate.core.auth.TestTokens.validClaims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class GatewayAuthenticatorTest {
    private final InMemoryKeyStore store = new InMemoryKeyStore();
    private final TestTokens tokens = TestTokens.SHARED;
    private final JwtVerifier jwt =
            new JwtVerifier(TestTokens.CONFIG, new ImmutableJWKSet<>(tokens.publicKeys()), TestTokens.CLOCK);
    private final GatewayAuthenticator authenticator = new GatewayAuthenticator(Optional.of(jwt), store);
    private final GatewayAuthenticator keysOnly = new GatewayAuthenticator(Optional.empty(), store);

    @Test
    void authenticate_acceptsXApiKey() throws Exception {
        // GIVEN a stored key
        String key = storeKey("svc-ci", false);

        // WHEN it is presented as x-api-key
        Principal principal = authenticator.authenticate(Map.of("x-api-key", key));

        // THEN the key's principal is returned, identified by key id only
        assertThat(principal.id()).isEqualTo("svc-ci");
        assertThat(principal.groups()).containsExactly("eng");
        assertThat(principal.email()).isEqualTo("ci@example.com");
        assertThat(principal.issuer()).isEqualTo("policygate:key");
        assertThat(principal.keyId()).isEqualTo(ApiKeys.keyId(ApiKeys.hash(key)));
        assertThat(principal.method()).isEqualTo(Principal.Method.API_KEY);
    }

    @Test
    void authenticate_acceptsKeyAsBearer_withCaseInsensitiveScheme() throws Exception {
        String key = storeKey("svc-ci", false);

        assertThat(authenticator.authenticate(Map.of("authorization", "Bearer " + key)).id()).isEqualTo("svc-ci");
        assertThat(authenticator.authenticate(Map.of("authorization", "bEaReR  " + key)).id()).isEqualTo("svc-ci");
    }

    @Test
    void authenticate_acceptsBothHeaders_whenTheyCarryTheSameCredential() throws Exception {
        String key = storeKey("svc-ci", false);

        Principal principal = authenticator.authenticate(Map.of("x-api-key", key, "authorization", "Bearer " + key));

        assertThat(principal.id()).isEqualTo("svc-ci");
    }

    @Test
    void authenticate_reportsUnknownKey_forKeyNotInStore() {
        String key = ApiKeys.newKey();

        AuthenticationException e = rejected(authenticator, Map.of("x-api-key", key), Reason.UNKNOWN_KEY, key);

        assertThat(e.getMessage()).isEqualTo("invalid x-api-key");
    }

    @Test
    void authenticate_reportsRevoked_forRevokedKey() {
        String key = storeKey("svc-old", true);

        rejected(authenticator, Map.of("x-api-key", key), Reason.REVOKED, key);
    }

    @Test
    void authenticate_usesTheCredentialThatWorks_whenTheHeadersDiffer() throws AuthenticationException {
        // GIVEN an SDK that sends "authorization: Bearer <something else>" beside our x-api-key
        String key = storeKey("svc-ci", false);
        String other = ApiKeys.newKey();

        // THEN the gateway key authenticates, whichever header carries it
        assertThat(authenticator.authenticate(Map.of("x-api-key", key, "authorization", "Bearer " + other)).id())
                .isEqualTo("svc-ci");
        assertThat(authenticator.authenticate(Map.of("x-api-key", "sk-ant-stale", "authorization", "Bearer " + key))
                .id()).isEqualTo("svc-ci");
    }

    @Test
    void authenticate_refusesTwoValidCredentialsForDifferentPrincipals() {
        String key = storeKey("svc-a", false);
        String second = storeKey("svc-b", false);

        AuthenticationException e = rejected(authenticator,
                Map.of("x-api-key", key, "authorization", "Bearer " + second), Reason.MALFORMED, key);

        assertThat(e.getMessage()).contains("send one credential").doesNotContain(second);
    }

    @Test
    void authenticate_reportsTheKeyFailure_whenNeitherDifferingCredentialWorks() {
        rejected(authenticator, Map.of("x-api-key", ApiKeys.newKey(), "authorization", "Bearer " + ApiKeys.newKey()),
                Reason.UNKNOWN_KEY, "pgk_");
    }

    @Test
    void authenticate_reportsMissing_withoutCredential() {
        rejected(authenticator, Map.of("content-type", "application/json"), Reason.MISSING, "none");
        rejected(authenticator, Map.of("x-api-key", "  "), Reason.MISSING, "none");
    }

    @Test
    void authenticate_reportsMalformed_forOtherAuthorizationSchemes() {
        rejected(authenticator, Map.of("authorization", "Basic dXNlcjpwYXNz"), Reason.MALFORMED, "dXNlcjpwYXNz");
    }

    @Test
    void authenticate_reportsMalformed_forOversizeOrNonAsciiCredential_beforeLookup() {
        String huge = "pgk_" + "a".repeat(8192);
        rejected(authenticator, Map.of("x-api-key", huge), Reason.MALFORMED, huge);
        rejected(authenticator, Map.of("x-api-key", "pgk_é"), Reason.MALFORMED, "pgk_é");
        assertThat(store.lookups).isEmpty();
    }

    @Test
    void authenticate_routesJwtShapedCredential_toJwtVerifier() throws Exception {
        // GIVEN a valid OIDC token
        String token = tokens.rs256(validClaims().claim("groups", List.of("eng")).build());

        // WHEN it is presented as a bearer token
        Principal principal = authenticator.authenticate(Map.of("authorization", "Bearer " + token));

        // THEN it was verified as a JWT and never looked up as a key
        assertThat(principal.method()).isEqualTo(Principal.Method.JWT);
        assertThat(principal.id()).isEqualTo("alice");
        assertThat(store.lookups).isEmpty();
    }

    @Test
    void authenticate_refusesJwt_whenNoIssuerIsConfigured() {
        String token = tokens.rs256(validClaims().build());

        AuthenticationException e = rejected(keysOnly, Map.of("authorization", "Bearer " + token), Reason.INVALID, token);

        assertThat(e.getMessage()).isEqualTo("bearer tokens are not accepted: no OIDC issuer configured");
    }

    @Test
    void authenticate_passesJwtFailures_through() {
        String token = tokens.rs256(validClaims().issuer("https://evil.example.com/").build());

        rejected(authenticator, Map.of("x-api-key", token), Reason.INVALID, token);
    }

    @Test
    void authenticate_failsClosed_whenKeyStoreIsUnreachable() {
        GatewayAuthenticator broken = new GatewayAuthenticator(Optional.empty(), new InMemoryKeyStore() {
            @Override
            public Optional<ApiKeyRecord> findByHash(String sha256) {
                throw new IllegalStateException("disk gone");
            }
        });
        String key = ApiKeys.newKey();

        AuthenticationException e = rejected(broken, Map.of("x-api-key", key), Reason.UNAVAILABLE, key);

        assertThat(e.getMessage()).doesNotContain("disk gone");
    }

    @Test
    void authenticate_refusesRecord_whoseStoredHashDoesNotMatch() {
        // GIVEN a store that answers with the wrong record (a buggy or hostile adapter)
        String key = ApiKeys.newKey();
        String otherHash = ApiKeys.hash(ApiKeys.newKey());
        ApiKeyRecord wrong = new ApiKeyRecord(ApiKeys.keyId(otherHash), otherHash, "bob", Set.of(), null,
                Instant.now(), false);
        GatewayAuthenticator lax = new GatewayAuthenticator(Optional.empty(), new InMemoryKeyStore() {
            @Override
            public Optional<ApiKeyRecord> findByHash(String sha256) {
                return Optional.of(wrong);
            }
        });

        // WHEN / THEN the key is refused
        rejected(lax, Map.of("x-api-key", key), Reason.UNKNOWN_KEY, key);
    }

    private String storeKey(String principal, boolean revoked) {
        String key = ApiKeys.newKey();
        String hash = ApiKeys.hash(key);
        store.put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, Set.of("eng"), "ci@example.com",
                Instant.now(), revoked));
        return key;
    }

    private static AuthenticationException rejected(GatewayAuthenticator authenticator, Map<String, String> headers,
                                                    Reason reason, String credential) {
        AuthenticationException e = catchThrowableOfType(AuthenticationException.class,
                () -> authenticator.authenticate(headers));
        assertThat(e).as("expected rejection").isNotNull();
        assertThat(e.reason()).isEqualTo(reason);
        assertThat(e.getMessage()).doesNotContain(credential);
        return e;
    }

    /** Plain map-backed store; the file adapter has its own tests. */
    static class InMemoryKeyStore implements ApiKeyStore {
        final Map<String, ApiKeyRecord> byHash = new ConcurrentHashMap<>();
        final List<String> lookups = new ArrayList<>();

        @Override
        public Optional<ApiKeyRecord> findByHash(String sha256) {
            lookups.add(sha256);
            return Optional.ofNullable(byHash.get(sha256));
        }

        @Override
        public void put(ApiKeyRecord record) {
            byHash.put(record.sha256(), record);
        }

        @Override
        public boolean revoke(String keyId) {
            return byHash.values().stream().filter(r -> r.keyId().equals(keyId)).findFirst()
                    .map(r -> byHash.put(r.sha256(), r.asRevoked()) != null).orElse(false);
        }

        @Override
        public List<ApiKeyRecord> list() {
            return List.copyOf(byHash.values());
        }
    }
}
