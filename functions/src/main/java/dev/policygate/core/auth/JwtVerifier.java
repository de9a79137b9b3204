package dev.policygate.core.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import com.nimbusds.jwt.proc.JWTClaimsSetVerifier;
import dev.policygate.core.auth.AuthenticationException.Reason;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Verifies bearer JWTs from the one configured OIDC issuer and turns them into a {@link Principal}.
 *
 * <p>Accepts only RS256 and ES256 signatures by a key of the issuer's JWKS named by the token's
 * {@code kid}. Requires {@code iss}, {@code aud}, {@code exp} and {@code sub}; honours {@code nbf}
 * and refuses an {@code iat} in the future, each within the configured clock skew. Remote key sets
 * are cached, refreshed ahead of expiry, rate limited, and served stale for up to an hour while
 * the issuer is unreachable. Thread-safe. Exception messages never contain the token.
 */
public final class JwtVerifier {
    /** The only signature algorithms accepted. */
    public static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);

    static final int MAX_GROUPS = 256;
    static final int MAX_SUBJECT_LENGTH = 256;
    static final int MAX_GROUP_LENGTH = 256;
    static final int MAX_EMAIL_LENGTH = 320;
    static final int JWKS_TIMEOUT_MILLIS = 2000;
    static final int JWKS_SIZE_LIMIT_BYTES = 64 * 1024;

    private final OidcConfig config;
    private final Clock clock;
    private final DefaultJWTProcessor<SecurityContext> processor;

    /** Verifier whose keys come from {@link OidcConfig#jwksUri()}. A {@code file:} JWKS is read now. */
    public JwtVerifier(OidcConfig config) {
        this(config, keySource(config.jwksUri(), JwksCachePolicy.DEFAULT), Clock.systemUTC());
    }

    /** Verifier over the given keys, for tests and for callers that manage keys themselves. */
    public JwtVerifier(OidcConfig config, JWKSource<SecurityContext> keys) {
        this(config, keys, Clock.systemUTC());
    }

    /** Verifier over the given keys and clock. */
    public JwtVerifier(OidcConfig config, JWKSource<SecurityContext> keys, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(keys, "keys");
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
                JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
        p.setJWTClaimsSetVerifier(new ClaimsVerifier());
        this.processor = p;
    }

    /**
     * Verifies the token and returns its principal.
     *
     * @throws AuthenticationException EXPIRED, INVALID, MALFORMED or UNAVAILABLE
     */
    public Principal verify(String token) throws AuthenticationException {
        if (token == null || token.isEmpty()) {
            throw new AuthenticationException(Reason.MISSING, "No bearer token was presented.");
        }
        if (token.length() > config.maxTokenBytes()) {
            throw new AuthenticationException(Reason.MALFORMED, "The bearer token is too large.");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw malformed();
            }
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException | RuntimeException e) {
            throw malformed();
        }
        // Checked here as well as by the key selector so that "none", HS* and JWE are refused
        // before any key is looked up.
        if (!(jwt instanceof SignedJWT signed) || !ALGORITHMS.contains(signed.getHeader().getAlgorithm())) {
            throw new AuthenticationException(Reason.INVALID, "The bearer token's signature algorithm is not accepted.");
        }
        JWSHeader header = signed.getHeader();
        if (header.getKeyID() == null || header.getKeyID().isBlank()) {
            throw new AuthenticationException(Reason.INVALID, "The bearer token does not name its signing key.");
        }
        try {
            signed.getJWTClaimsSet();
        } catch (ParseException e) {
            throw malformed();
        }
        JWTClaimsSet claims;
        try {
            claims = processor.process(signed, null);
        } catch (ExpiredJWTException e) {
            throw new AuthenticationException(Reason.EXPIRED, "The bearer token has expired.");
        } catch (BadJOSEException | RateLimitReachedException e) {
            throw invalid();
        } catch (KeySourceException e) {
            throw new AuthenticationException(Reason.UNAVAILABLE,
                    "The token issuer's signing keys are temporarily unavailable.");
        } catch (JOSEException | RuntimeException e) {
            throw invalid();
        }
        return new Principal(claims.getSubject(), groups(claims), email(claims), config.issuer(), null,
                Principal.Method.JWT);
    }

    /** The verifier's configuration. */
    public OidcConfig config() {
        return config;
    }

    private Set<String> groups(JWTClaimsSet claims) throws AuthenticationException {
        Object value = claims.getClaim(config.groupsClaim());
        Set<String> groups = new LinkedHashSet<>();
        if (value instanceof String s) {
            for (String g : s.split("[\\s,]+")) {
                addGroup(groups, g);
            }
        } else if (value instanceof List<?> list) {
            for (Object entry : list) {
                if (entry instanceof String g) {
                    addGroup(groups, g.strip());
                }
            }
        }
        return groups;
    }

    private static void addGroup(Set<String> groups, String group) throws AuthenticationException {
        if (group.isEmpty()) {
            return;
        }
        // Refused rather than dropped: silently losing a group could skip a forbid policy.
        if (group.length() > MAX_GROUP_LENGTH || group.chars().anyMatch(Character::isISOControl)) {
            throw new AuthenticationException(Reason.INVALID, "The bearer token carries an invalid group.");
        }
        groups.add(group);
        if (groups.size() > MAX_GROUPS) {
            throw new AuthenticationException(Reason.INVALID, "The bearer token carries too many groups.");
        }
    }

    private String email(JWTClaimsSet claims) {
        Object value = claims.getClaim(config.emailClaim());
        if (value instanceof String s && !s.isEmpty() && s.length() <= MAX_EMAIL_LENGTH
                && s.chars().noneMatch(Character::isISOControl)) {
            return s;
        }
        return null;
    }

    private static AuthenticationException malformed() {
        return new AuthenticationException(Reason.MALFORMED, "The bearer token is malformed.");
    }

    private static AuthenticationException invalid() {
        return new AuthenticationException(Reason.INVALID, "The bearer token is not valid.");
    }

    /** Claim checks against the injected clock, so that expiry can be tested. */
    private final class ClaimsVerifier implements JWTClaimsSetVerifier<SecurityContext> {
        @Override
        public void verify(JWTClaimsSet claims, SecurityContext context) throws BadJWTException {
            Instant now = clock.instant();
            Duration skew = config.clockSkew();
            if (!config.issuer().equals(claims.getIssuer())) {
                throw new BadJWTException("issuer");
            }
            List<String> audience = claims.getAudience();
            if (audience == null || !audience.contains(config.audience())) {
                throw new BadJWTException("audience");
            }
            Date exp = claims.getExpirationTime();
            if (exp == null) {
                throw new BadJWTException("exp");
            }
            if (!exp.toInstant().isAfter(now.minus(skew))) {
                throw new ExpiredJWTException("expired");
            }
            Date nbf = claims.getNotBeforeTime();
            if (nbf != null && nbf.toInstant().isAfter(now.plus(skew))) {
                throw new BadJWTException("nbf");
            }
            Date iat = claims.getIssueTime();
            if (iat != null && iat.toInstant().isAfter(now.plus(skew))) {
                throw new BadJWTException("iat");
            }
            String sub = claims.getSubject();
            if (sub == null || sub.isEmpty() || sub.length() > MAX_SUBJECT_LENGTH
                    || sub.chars().anyMatch(Character::isISOControl)) {
                throw new BadJWTException("sub");
            }
        }
    }

    /** Timings of the remote JWKS cache. Package-private so that tests can shorten them. */
    record JwksCachePolicy(Duration timeToLive, Duration refreshTimeout, Duration refreshAhead,
                           Duration rateLimit, Duration outageTolerance) {
        static final JwksCachePolicy DEFAULT = new JwksCachePolicy(Duration.ofMinutes(5), Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofHours(1));
    }

    /** The key source for a JWKS URI: cached and outage-tolerant for http(s), read once for file. */
    static JWKSource<SecurityContext> keySource(URI uri, JwksCachePolicy policy) {
        if ("file".equalsIgnoreCase(uri.getScheme())) {
            return new ImmutableJWKSet<>(loadJwksFile(Path.of(uri)));
        }
        URL url;
        try {
            url = uri.toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("jwksUri is not a valid URL", e);
        }
        ExecutorService refresher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "policygate-jwks-refresh");
            t.setDaemon(true);
            return t;
        });
        return JWKSourceBuilder.<SecurityContext>create(url,
                        new DefaultResourceRetriever(JWKS_TIMEOUT_MILLIS, JWKS_TIMEOUT_MILLIS, JWKS_SIZE_LIMIT_BYTES))
                .cache(policy.timeToLive().toMillis(), policy.refreshTimeout().toMillis())
                .refreshAheadCache(policy.refreshAhead().toMillis(), null, refresher, true, null, false)
                .rateLimited(policy.rateLimit().toMillis())
                .outageTolerant(policy.outageTolerance().toMillis())
                .retrying(false)
                .build();
    }

    private static JWKSet loadJwksFile(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] bytes = in.readNBytes(JWKS_SIZE_LIMIT_BYTES + 1);
            if (bytes.length > JWKS_SIZE_LIMIT_BYTES) {
                throw new IllegalArgumentException("JWKS file is larger than 64 KB: " + path);
            }
            JWKSet set = JWKSet.parse(new String(bytes, StandardCharsets.UTF_8)).toPublicJWKSet();
            if (set.isEmpty()) {
                throw new IllegalArgumentException("JWKS file holds no public keys: " + path);
            }
            return set;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read JWKS file " + path, e);
        } catch (ParseException e) {
            throw new IllegalArgumentException("JWKS file is not a valid JWK set: " + path, e);
        }
    }
}
