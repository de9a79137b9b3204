package dev.policygate.hardening;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeyStore;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.auth.GatewayAuthenticator;
import dev.policygate.core.auth.JwtVerifier;
import dev.policygate.core.auth.OidcConfig;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Authentication attacks, each through the {@code Gateway} use case, asserting the refusal, that
 * nothing was forwarded, and the recorded session: forged and mis-scoped JWTs, JWKS outages with
 * and without cached keys, unknown and revoked gateway keys and the hash lookup that makes key
 * comparison timing-safe, and brute force on approval links.
 */
class AuthAttackTest {
    private static final String ISSUER = "https://idp.example.com/";
    private static final String AUDIENCE = "policygate";
    private static RSAKey rsa;
    private static RSAKey stranger;

    private final List<HardeningGateways> opened = new ArrayList<>();
    private HttpServer jwks;

    @BeforeAll
    static void keys() throws JOSEException {
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        stranger = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
    }

    @AfterEach
    void close() {
        opened.forEach(HardeningGateways::close);
        if (jwks != null) {
            jwks.stop(0);
        }
    }

    // ---- JWT ------------------------------------------------------------------------------

    private static JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(ISSUER).audience(AUDIENCE).subject("alice")
                .issueTime(Date.from(now.minusSeconds(5))).expirationTime(Date.from(now.plus(Duration.ofMinutes(10))))
                .claim("groups", List.of("developers")).claim("email", "alice@example.com");
    }

    private static String rs256(RSAKey key, String kid, JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private HardeningGateways jwtGateway(JWKSource<SecurityContext> keys) {
        JwtVerifier verifier = new JwtVerifier(new OidcConfig(ISSUER, AUDIENCE, URI.create(
                "https://idp.example.com/jwks")), keys);
        return open(new GatewayAuthenticator(Optional.of(verifier), new MapKeyStore()));
    }

    private HardeningGateways open(GatewayAuthenticator auth) {
        HardeningGateways g = new HardeningGateways(auth);
        opened.add(g);
        return g;
    }

    private static GatewayResponse bearer(HardeningGateways g, String token) {
        return g.post(Map.of("authorization", "Bearer " + token), HardeningGateways.messages("", "hello there"));
    }

    /** 401, nothing forwarded, recorded UNAUTHENTICATED without principal, body or credential. */
    private static void assertRefusedAndRecorded(HardeningGateways g, GatewayResponse r, String credential) {
        assertThat(r.status()).isEqualTo(401);
        assertThat(HardeningGateways.json(r).path("error").path("type").asText()).isEqualTo("authentication_error");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain(credential);
        assertThat(g.counting.sent).isEmpty();
        SessionSummary s = g.sessionOf(r);
        assertThat(s.status()).isEqualTo(SessionStatus.UNAUTHENTICATED);
        assertThat(s.principal()).isNull();
        assertThat(s.httpStatus()).isEqualTo(401);
        ObjectNode rec = g.recordingOf(r);
        assertThat(rec.path("principal").isNull()).isTrue();
        assertThat(rec.has("request")).as("unauthenticated bodies are not recorded").isFalse();
        assertThat(rec.toString()).doesNotContain(credential).doesNotContain("hello there");
        assertThat(rec.path("error").path("type").asText()).isEqualTo("authentication_error");
    }

    @Test
    void validToken_isAccepted_soThatEveryRefusalBelowIsTheAttacksDoing() throws Exception {
        HardeningGateways g = jwtGateway(new ImmutableJWKSet<>(new JWKSet(rsa.toPublicJWK())));
        GatewayResponse r = bearer(g, rs256(rsa, "rsa-1", claims().build()));
        assertThat(r.status()).isEqualTo(200);
        assertThat(g.sessionOf(r).principal()).isEqualTo("alice");
        assertThat(g.counting.sent).hasSize(1);
    }

    @Test
    void forgedAndMisScopedTokens_areRefused_andRecordedAsUnauthenticated() throws Exception {
        HardeningGateways g = jwtGateway(new ImmutableJWKSet<>(new JWKSet(rsa.toPublicJWK())));
        Instant now = Instant.now();
        String validPayload = b64(claims().build().toString());
        byte[] publicKeyBytes = rsa.toRSAPublicKey().getEncoded();
        SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims().build());
        hs.sign(new MACSigner(publicKeyBytes));
        Map<String, String> attacks = Map.of(
                "alg none", b64("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "." + validPayload + ".",
                "alg none, capitalised", b64("{\"alg\":\"NONE\",\"kid\":\"rsa-1\"}") + "." + validPayload + ".",
                "HS256 keyed with the RSA public key", hs.serialize(),
                "unknown kid", rs256(stranger, "rsa-2", claims().build()),
                "a stranger's key under our kid", rs256(stranger, "rsa-1", claims().build()),
                "wrong issuer", rs256(rsa, "rsa-1", claims().issuer("https://evil.example.com/").build()),
                "wrong audience", rs256(rsa, "rsa-1", claims().audience("someone-else").build()),
                "expired beyond the skew", rs256(rsa, "rsa-1", claims()
                        .expirationTime(Date.from(now.minus(Duration.ofMinutes(5)))).build()),
                "not yet valid", rs256(rsa, "rsa-1", claims().notBeforeTime(Date.from(now.plus(Duration.ofMinutes(10))))
                        .build()),
                "oversized (9 KB, validly signed)", rs256(rsa, "rsa-1", claims().claim("pad", "x".repeat(9000)).build()));
        for (Map.Entry<String, String> attack : attacks.entrySet()) {
            GatewayResponse r = bearer(g, attack.getValue());
            assertRefusedAndRecorded(g, r, attack.getValue());
        }
        assertThat(g.sessions.index).hasSize(attacks.size());
    }

    @Test
    void jwksOutage_withoutCachedKeys_isA503_recordedAsFailed_andNeverLetsTheTokenThrough() throws Exception {
        AtomicBoolean up = new AtomicBoolean(false);
        URI uri = startJwks(up, new AtomicInteger());
        HardeningGateways g = open(new GatewayAuthenticator(Optional.of(new JwtVerifier(
                new OidcConfig(ISSUER, AUDIENCE, uri))), new MapKeyStore()));
        String token = rs256(rsa, "rsa-1", claims().build());
        GatewayResponse r = bearer(g, token);
        assertThat(r.status()).isEqualTo(503);
        assertThat(HardeningGateways.json(r).path("error").path("type").asText()).isEqualTo("api_error");
        assertThat(g.counting.sent).isEmpty();
        assertThat(g.sessionOf(r).status()).isEqualTo(SessionStatus.FAILED);
        assertThat(g.recordingOf(r).toString()).doesNotContain(token);
    }

    @Test
    void jwksOutage_afterAFetch_servesTheCachedKeys_butStillRefusesUnknownKids() throws Exception {
        AtomicBoolean up = new AtomicBoolean(true);
        AtomicInteger fetches = new AtomicInteger();
        URI uri = startJwks(up, fetches);
        // the production key source (5 min cache, 1 h outage tolerance)
        HardeningGateways g = open(new GatewayAuthenticator(Optional.of(new JwtVerifier(
                new OidcConfig(ISSUER, AUDIENCE, uri))), new MapKeyStore()));
        assertThat(bearer(g, rs256(rsa, "rsa-1", claims().build())).status()).isEqualTo(200);
        up.set(false);
        assertThat(bearer(g, rs256(rsa, "rsa-1", claims().subject("alice2").build())).status()).isEqualTo(200);
        g.counting.sent.clear();
        String rotated = rs256(stranger, "rsa-2", claims().build());
        GatewayResponse r = bearer(g, rotated);
        // the cache miss may not refetch (rate limit) or the refetch fails (outage): either way the
        // cached set has no such key, and the token is refused as invalid, not let through
        assertRefusedAndRecorded(g, r, rotated);
        assertThat(fetches.get()).isBetween(1, 2);
    }

    @Test
    void jwksOutage_afterTheCacheExpired_servesStaleKeys_withinTheOutageTolerance() throws Exception {
        AtomicBoolean up = new AtomicBoolean(true);
        URI uri = startJwks(up, new AtomicInteger());
        // the production builder's options with a 600 ms time-to-live, so that the keys go stale
        JWKSource<SecurityContext> source = JWKSourceBuilder.<SecurityContext>create(new URL(uri.toString()),
                        new DefaultResourceRetriever(2000, 2000, 64 * 1024))
                .cache(600, 200).refreshAheadCache(false).rateLimited(false).outageTolerant(Duration.ofHours(1).toMillis()).retrying(false)
                .build();
        HardeningGateways g = jwtGateway(source);
        assertThat(bearer(g, rs256(rsa, "rsa-1", claims().build())).status()).isEqualTo(200);
        up.set(false);
        Thread.sleep(800);
        GatewayResponse stale = bearer(g, rs256(rsa, "rsa-1", claims().build()));
        assertThat(stale.status()).isEqualTo(200);
        assertThat(g.sessionOf(stale).status()).isEqualTo(SessionStatus.COMPLETED);
        GatewayResponse forged = bearer(g, b64("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "."
                + b64(claims().build().toString()) + ".");
        assertThat(forged.status()).isEqualTo(401);
    }

    private URI startJwks(AtomicBoolean up, AtomicInteger fetches) throws IOException {
        jwks = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        byte[] body = new JWKSet(rsa.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        jwks.createContext("/jwks", ex -> {
            try (ex) {
                fetches.incrementAndGet();
                if (!up.get()) {
                    ex.sendResponseHeaders(500, -1);
                    return;
                }
                ex.getResponseHeaders().set("content-type", "application/json");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        jwks.start();
        return URI.create("http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks");
    }

    // ---- gateway keys ---------------------------------------------------------------------

    /** Keys by hash, remembering every value it was asked to look up. */
    static final class MapKeyStore implements ApiKeyStore {
        final Map<String, ApiKeyRecord> byHash = new ConcurrentHashMap<>();
        final List<String> lookedUp = new CopyOnWriteArrayList<>();

        String add(String principal, boolean revoked) {
            String key = ApiKeys.newKey();
            String hash = ApiKeys.hash(key);
            byHash.put(hash, new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, Set.of("developers"),
                    principal + "@example.com", Instant.now(), revoked));
            return key;
        }

        @Override
        public Optional<ApiKeyRecord> findByHash(String sha256) {
            lookedUp.add(sha256);
            return Optional.ofNullable(byHash.get(sha256));
        }

        @Override
        public void put(ApiKeyRecord record) {
            byHash.put(record.sha256(), record);
        }

        @Override
        public boolean revoke(String keyId) {
            return false;
        }

        @Override
        public List<ApiKeyRecord> list() {
            return List.copyOf(byHash.values());
        }
    }

    @Test
    void unknownAndRevokedKeys_areRefused_andRecorded_andAnUnknownKeyNeverHintsHowClose_itWas() {
        MapKeyStore store = new MapKeyStore();
        String good = store.add("kim", false);
        String revoked = store.add("rev", true);
        HardeningGateways g = open(new GatewayAuthenticator(Optional.empty(), store));
        String body = HardeningGateways.messages("", "hello there");

        assertThat(g.post(Map.of("x-api-key", good), body).status()).isEqualTo(200);
        g.counting.sent.clear();

        GatewayResponse rev = g.post(Map.of("x-api-key", revoked), body);
        assertRefusedAndRecorded(g, rev, revoked);
        assertThat(HardeningGateways.json(rev).path("error").path("message").asText()).contains("revoked");

        // a near miss (one character changed at the end), a different key, and garbage: one answer
        String nearMiss = good.substring(0, good.length() - 1) + (good.endsWith("A") ? "B" : "A");
        Set<String> messages = new HashSet<>();
        for (String attempt : List.of(nearMiss, ApiKeys.newKey(), "pgk_short", "sk-ant-api03-not-ours")) {
            GatewayResponse r = g.post(Map.of("x-api-key", attempt), body);
            assertRefusedAndRecorded(g, r, attempt);
            messages.add(HardeningGateways.json(r).path("error").path("message").asText());
        }
        assertThat(messages).hasSize(1);
    }

    @Test
    void keyComparison_isTimingSafe_becauseOnlyTheSha256OfThePresentedKeyIsLookedUp() {
        // The store is asked for SHA-256(presented key) and nothing else, so no comparison ever
        // runs over the secret's characters: a near miss and a random key cost the same lookup.
        // The record found is then checked with MessageDigest.isEqual (constant time) against
        // the hash (GatewayAuthenticator.authenticateKey).
        MapKeyStore store = new MapKeyStore();
        String good = store.add("kim", false);
        HardeningGateways g = open(new GatewayAuthenticator(Optional.empty(), store));
        String nearMiss = good.substring(0, good.length() - 1) + (good.endsWith("A") ? "B" : "A");
        for (String attempt : List.of(good, nearMiss, "pgk_" + "x".repeat(43))) {
            g.post(Map.of("x-api-key", attempt), HardeningGateways.messages("", "hi"));
        }
        assertThat(store.lookedUp).containsExactly(ApiKeys.hash(good), ApiKeys.hash(nearMiss),
                ApiKeys.hash("pgk_" + "x".repeat(43)));
        assertThat(store.lookedUp).allMatch(ApiKeys::isSha256Hex);
        assertThat(store.lookedUp).noneMatch(h -> h.contains(good.substring(4, 12)));
    }

    // ---- approval links -------------------------------------------------------------------

    @Test
    void approvalIdBruteForce_getsOneGenericRefusal_everyAttemptIsRecorded_andThePendingRequestStaysPending() {
        MapKeyStore store = new MapKeyStore();
        String dev = store.add("dev", false);
        HardeningGateways g = open(new GatewayAuthenticator(Optional.empty(), store));
        GatewayResponse held = g.post(Map.of("x-api-key", dev), HardeningGateways.messages(
                "\"tools\":[{\"name\":\"bash\",\"type\":\"bash_20250124\"}],", "list files"));
        assertThat(held.status()).isEqualTo(202);
        assertThat(g.notices).isNotEmpty();
        String realId = g.notices.get(0).approvalId();
        long exp = g.notices.get(0).expiresAt().getEpochSecond();
        int before = g.sessions.index.size();

        SecureRandom random = new SecureRandom();
        Set<String> bodies = new HashSet<>();
        Set<Integer> statuses = new HashSet<>();
        int attempts = 0;
        for (int i = 0; i < 150; i++) {
            // random ids of the right shape, random signatures; a third aim at the real id
            String id = i % 3 == 0 ? realId : randomToken(random, 16);
            String sig = randomToken(random, 32);
            Map<String, String> q = Map.of("approver", "alice@example.com", "exp", Long.toString(exp), "sig", sig);
            GatewayResponse view = g.handle(new GatewayRequest("GET", "/approvals/" + id, q, Map.of(), null, false,
                    "203.0.113.7"));
            String form = "approver=alice%40example.com&exp=" + exp + "&sig=" + sig + "&csrf="
                    + randomToken(random, 32) + "&decision=approve";
            GatewayResponse post = g.handle(new GatewayRequest("POST", "/approvals/" + id, Map.of(),
                    Map.of("content-type", "application/x-www-form-urlencoded"),
                    form.getBytes(StandardCharsets.UTF_8), false, "203.0.113.7"));
            for (GatewayResponse r : List.of(view, post)) {
                attempts++;
                statuses.add(r.status());
                bodies.add(new String(r.body(), StandardCharsets.UTF_8));
                SessionSummary s = g.sessionOf(r);
                assertThat(s).as("attempt %d is recorded", attempts).isNotNull();
                assertThat(s.status().terminal()).isTrue();
            }
        }
        assertThat(statuses).hasSize(1);
        assertThat(statuses.iterator().next()).isBetween(400, 499);
        assertThat(bodies).as("one generic refusal page, whatever was guessed").hasSize(1);
        assertThat(g.sessions.index).hasSize(before + attempts);
        assertThat(g.sessionOf(held).status()).isEqualTo(SessionStatus.PENDING_APPROVAL);
        assertThat(g.counting.sent).isEmpty();
    }

    private static String randomToken(SecureRandom random, int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
