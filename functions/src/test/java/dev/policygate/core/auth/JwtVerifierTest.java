package dev.policygate.core.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jwt.PlainJWT;
import dev.policygate.core.auth.AuthenticationException.Reason;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.stream.IntStream;

import static dev.policygate.core.auth.TestTokens.NOW;
import static dev.policygate.core.auth.TestTokens.validClaims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class JwtVerifierTest {
    private final TestTokens tokens = TestTokens.SHARED;
    private final JwtVerifier verifier =
            new JwtVerifier(TestTokens.CONFIG, new ImmutableJWKSet<>(tokens.publicKeys()), TestTokens.CLOCK);

    @Test
    void verify_acceptsRs256_withGroupsFromJsonArray() throws Exception {
        // GIVEN an RS256 token with a groups array holding a non-string entry
        String token = tokens.rs256(validClaims()
                .claim("groups", List.of("eng", "admins", 42))
                .claim("email", "alice@example.com")
                .build());

        // WHEN it is verified
        Principal principal = verifier.verify(token);

        // THEN the principal carries the subject, the string groups and the email
        assertThat(principal.id()).isEqualTo("alice");
        assertThat(principal.groups()).containsExactlyInAnyOrder("eng", "admins");
        assertThat(principal.email()).isEqualTo("alice@example.com");
        assertThat(principal.issuer()).isEqualTo(TestTokens.ISSUER);
        assertThat(principal.keyId()).isNull();
        assertThat(principal.method()).isEqualTo(Principal.Method.JWT);
    }

    @Test
    void verify_acceptsEs256_withGroupsFromSpaceOrCommaSeparatedString() throws Exception {
        // GIVEN an ES256 token whose groups claim is a string
        String token = tokens.es256(validClaims().claim("groups", "eng, admins ops").build());

        // WHEN it is verified
        Principal principal = verifier.verify(token);

        // THEN the string is split on spaces and commas
        assertThat(principal.groups()).containsExactlyInAnyOrder("eng", "admins", "ops");
        assertThat(principal.email()).isNull();
    }

    @Test
    void verify_readsConfiguredGroupsAndEmailClaims() throws Exception {
        // GIVEN a configuration naming custom claims
        OidcConfig config = new OidcConfig(TestTokens.ISSUER, TestTokens.AUDIENCE, TestTokens.CONFIG.jwksUri(),
                "roles", "upn", null, 0);
        JwtVerifier custom = new JwtVerifier(config, new ImmutableJWKSet<>(tokens.publicKeys()), TestTokens.CLOCK);

        // WHEN a token carrying them is verified
        Principal principal = custom.verify(tokens.rs256(validClaims()
                .claim("roles", List.of("auditor")).claim("groups", List.of("ignored"))
                .claim("upn", "alice@corp.example").build()));

        // THEN those claims are used
        assertThat(principal.groups()).containsExactly("auditor");
        assertThat(principal.email()).isEqualTo("alice@corp.example");
    }

    @Test
    void verify_rejectsAlgNone() {
        // GIVEN an unsecured token
        String token = new PlainJWT(validClaims().build()).serialize();

        // WHEN / THEN it is refused as invalid
        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_rejectsHs256SignedWithTheRsaPublicKeyBytes() throws Exception {
        // GIVEN the classic key-confusion attack: HMAC keyed with the issuer's public key
        byte[] publicKeyBytes = tokens.rsa.toRSAPublicKey().getEncoded();
        String token = tokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(),
                validClaims().build(), new MACSigner(publicKeyBytes));

        // WHEN / THEN it is refused
        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_rejectsRs512_becauseOnlyRs256AndEs256AreAccepted() throws Exception {
        // GIVEN a token correctly signed by a JWKS key, but with RS512
        String token = tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS512).keyID("rsa-1").build(),
                validClaims().build(), tokens.rsaSigner());

        // WHEN / THEN it is refused
        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_rejectsUnknownKid() {
        // GIVEN a token naming a key that is not in the JWKS
        String token = tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("other").build(),
                validClaims().build(), tokens.rsaSigner());

        // WHEN / THEN it is refused
        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_rejectsMissingKid() {
        // GIVEN a token with no kid at all
        String token = tokens.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).build(),
                validClaims().build(), tokens.rsaSigner());

        // WHEN / THEN it is refused
        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_rejectsTamperedPayload() {
        // GIVEN a valid token whose payload is swapped for another subject's
        String token = tokens.rs256(validClaims().build());
        String[] parts = token.split("\\.");
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(
                validClaims().subject("mallory").build().toString().getBytes());

        // WHEN / THEN the signature no longer verifies
        assertRejected(parts[0] + "." + forged + "." + parts[2], Reason.INVALID);
    }

    @Test
    void verify_rejectsWrongIssuer() {
        assertRejected(tokens.rs256(validClaims().issuer("https://evil.example.com/").build()), Reason.INVALID);
    }

    @Test
    void verify_rejectsWrongAudience() {
        assertRejected(tokens.rs256(validClaims().audience(List.of("other-api")).build()), Reason.INVALID);
    }

    @Test
    void verify_acceptsAudienceList_containingOurAudience() throws Exception {
        String token = tokens.rs256(validClaims().audience(List.of("other-api", TestTokens.AUDIENCE)).build());

        assertThat(verifier.verify(token).id()).isEqualTo("alice");
    }

    @Test
    void verify_reportsExpired_whenExpPassedBeyondSkew() {
        // GIVEN a token that expired two minutes ago (skew is one minute)
        String token = tokens.rs256(validClaims().expirationTime(Date.from(NOW.minus(Duration.ofMinutes(2)))).build());

        // WHEN / THEN it is refused as expired, with a safe message
        AuthenticationException e = assertRejected(token, Reason.EXPIRED);
        assertThat(e.getMessage()).isEqualTo("The bearer token has expired.");
    }

    @Test
    void verify_acceptsToken_expiredWithinSkew() throws Exception {
        String token = tokens.rs256(validClaims().expirationTime(Date.from(NOW.minusSeconds(30))).build());

        assertThat(verifier.verify(token).id()).isEqualTo("alice");
    }

    @Test
    void verify_rejectsMissingExp() {
        assertRejected(tokens.rs256(validClaims().expirationTime(null).build()), Reason.INVALID);
    }

    @Test
    void verify_rejectsNotYetValid_whenNbfBeyondSkew() {
        String token = tokens.rs256(validClaims().notBeforeTime(Date.from(NOW.plus(Duration.ofMinutes(5)))).build());

        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_rejectsIatInTheFuture() {
        String token = tokens.rs256(validClaims().issueTime(Date.from(NOW.plus(Duration.ofHours(1)))).build());

        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_rejectsOversizeToken_beforeParsing() {
        // GIVEN a token longer than maxTokenBytes, which is not even a JWT
        String token = "eyJ" + "A".repeat(TestTokens.CONFIG.maxTokenBytes());

        // WHEN / THEN it is refused by size alone
        AuthenticationException e = assertRejected(token, Reason.MALFORMED);
        assertThat(e.getMessage()).contains("too large");
    }

    @Test
    void verify_rejectsMissingSub() {
        assertRejected(tokens.rs256(validClaims().subject(null).build()), Reason.INVALID);
    }

    @Test
    void verify_rejectsOverlongSub() {
        assertRejected(tokens.rs256(validClaims().subject("a".repeat(257)).build()), Reason.INVALID);
    }

    @Test
    void verify_rejectsTooManyGroups_ratherThanDroppingSome() {
        // GIVEN 257 groups: truncating could silently skip a forbid on a dropped group
        List<String> groups = IntStream.range(0, 257).mapToObj(i -> "g" + i).toList();
        String token = tokens.rs256(validClaims().claim("groups", groups).build());

        // WHEN / THEN the token is refused
        assertRejected(token, Reason.INVALID);
    }

    @Test
    void verify_reportsMalformed_forGarbage() {
        assertRejected("eyJub3Q.a.b", Reason.MALFORMED);
        assertRejected("not a token", Reason.MALFORMED);
    }

    @Test
    void verify_neverEchoesTheToken() {
        // GIVEN an expired token
        String token = tokens.rs256(validClaims().expirationTime(Date.from(NOW.minus(Duration.ofHours(1)))).build());

        // WHEN it is refused
        AuthenticationException e = assertRejected(token, Reason.EXPIRED);

        // THEN no part of it appears in the message
        for (String part : token.split("\\.")) {
            assertThat(e.getMessage()).doesNotContain(part);
        }
    }

    private AuthenticationException assertRejected(String token, Reason reason) {
        AuthenticationException e = catchThrowableOfType(AuthenticationException.class, () -> verifier.verify(token));
        assertThat(e).as("expected rejection").isNotNull();
        assertThat(e.reason()).isEqualTo(reason);
        assertThat(e.getMessage()).doesNotContain(token);
        return e;
    }
}
