package dev.policygate.core.auth;

import dev.policygate.core.auth.AuthenticationException.Reason;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Resolves the caller from {@code x-api-key} or {@code authorization: Bearer}. A credential shaped
 * like a JWT goes to the {@link JwtVerifier}; anything else is treated as a gateway key and looked
 * up by its SHA-256.
 *
 * <p>Fails closed: a credential that is too long, not printable ASCII, sent twice with different
 * values, or that cannot be checked because the key store is unreachable, is refused. Exception
 * messages never contain the presented credential.
 */
public final class GatewayAuthenticator implements PrincipalResolver {
    /** Issuer recorded for principals authenticated by a gateway key. */
    public static final String KEY_ISSUER = "policygate:key";
    static final int MAX_CREDENTIAL_LENGTH = 8192;

    private final Optional<JwtVerifier> jwt;
    private final ApiKeyStore keys;

    public GatewayAuthenticator(Optional<JwtVerifier> jwt, ApiKeyStore keys) {
        this.jwt = Objects.requireNonNull(jwt, "jwt");
        this.keys = Objects.requireNonNull(keys, "keys");
    }

    @Override
    public Principal authenticate(Map<String, String> headers) throws AuthenticationException {
        Map<String, String> h = headers == null ? Map.of() : headers;
        String apiKey = blankToNull(h.get("x-api-key"));
        String bearer = bearer(blankToNull(h.get("authorization")));
        if (apiKey != null && bearer != null && !MessageDigest.isEqual(
                apiKey.getBytes(StandardCharsets.US_ASCII), bearer.getBytes(StandardCharsets.US_ASCII))) {
            return eitherOf(apiKey, bearer);
        }
        return authenticateOne(credential(h));
    }

    /**
     * Two different credentials: SDKs send {@code authorization: Bearer <api key>} and callers
     * add {@code x-api-key}, or Claude Code has both a stale API key and an auth token. The one
     * that authenticates wins; if both do and name different principals, the request is
     * ambiguous and refused. Neither credential is ever forwarded upstream.
     */
    private Principal eitherOf(String apiKey, String bearer) throws AuthenticationException {
        requireWellFormed(apiKey);
        requireWellFormed(bearer);
        Principal fromKey = null;
        AuthenticationException keyFailure = null;
        try {
            fromKey = authenticateOne(apiKey);
        } catch (AuthenticationException e) {
            keyFailure = e;
        }
        Principal fromBearer = null;
        try {
            fromBearer = authenticateOne(bearer);
        } catch (AuthenticationException e) {
            if (fromKey == null) {
                throw keyFailure;
            }
        }
        if (fromKey != null && fromBearer != null && !fromKey.id().equals(fromBearer.id())) {
            throw new AuthenticationException(Reason.MALFORMED,
                    "x-api-key and authorization name different principals: send one credential.");
        }
        return fromKey != null ? fromKey : fromBearer;
    }

    private Principal authenticateOne(String credential) throws AuthenticationException {
        if (looksLikeJwt(credential)) {
            if (jwt.isEmpty()) {
                throw new AuthenticationException(Reason.INVALID,
                        "bearer tokens are not accepted: no OIDC issuer configured");
            }
            try {
                return jwt.get().verify(credential);
            } catch (RuntimeException e) {
                throw new AuthenticationException(Reason.INVALID, "The bearer token is not valid.");
            }
        }
        return authenticateKey(credential);
    }

    private Principal authenticateKey(String key) throws AuthenticationException {
        String hash = ApiKeys.hash(key);
        Optional<ApiKeyRecord> found;
        try {
            found = keys.findByHash(hash);
        } catch (RuntimeException e) {
            throw new AuthenticationException(Reason.UNAVAILABLE, "API keys cannot be checked right now.");
        }
        ApiKeyRecord record = found
                .filter(r -> MessageDigest.isEqual(r.sha256().getBytes(StandardCharsets.US_ASCII),
                        hash.getBytes(StandardCharsets.US_ASCII)))
                .orElseThrow(() -> new AuthenticationException(Reason.UNKNOWN_KEY, "invalid x-api-key"));
        if (record.revoked()) {
            throw new AuthenticationException(Reason.REVOKED, "This API key has been revoked.");
        }
        return new Principal(record.principal(), record.groups(), record.email(), KEY_ISSUER, record.keyId(),
                Principal.Method.API_KEY);
    }

    /** The one credential presented, checked for size and charset before anything else looks at it. */
    private static String credential(Map<String, String> headers) throws AuthenticationException {
        String apiKey = blankToNull(headers.get("x-api-key"));
        String bearer = bearer(blankToNull(headers.get("authorization")));
        if (apiKey != null) {
            requireWellFormed(apiKey);
        }
        if (bearer != null) {
            requireWellFormed(bearer);
        }
        String credential = apiKey != null ? apiKey : bearer;
        if (credential == null) {
            throw new AuthenticationException(Reason.MISSING,
                    "No credential: send an x-api-key header or an authorization: Bearer header.");
        }
        return credential;
    }

    private static String bearer(String authorization) throws AuthenticationException {
        if (authorization == null) {
            return null;
        }
        if (authorization.length() > MAX_CREDENTIAL_LENGTH + 16) {
            throw tooLong();
        }
        String value = authorization.strip();
        int space = indexOfWhitespace(value);
        if (space < 0 || !value.substring(0, space).equalsIgnoreCase("bearer")) {
            throw new AuthenticationException(Reason.MALFORMED,
                    "The authorization header must use the Bearer scheme.");
        }
        String credential = value.substring(space).strip();
        if (credential.isEmpty()) {
            throw new AuthenticationException(Reason.MALFORMED, "The authorization header carries no credential.");
        }
        return credential;
    }

    private static void requireWellFormed(String credential) throws AuthenticationException {
        if (credential.length() > MAX_CREDENTIAL_LENGTH) {
            throw tooLong();
        }
        for (int i = 0; i < credential.length(); i++) {
            char c = credential.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new AuthenticationException(Reason.MALFORMED,
                        "The credential contains characters that are not printable ASCII.");
            }
        }
    }

    /** Three base64url segments with a JSON header; the signature may be empty so "none" reaches the verifier. */
    static boolean looksLikeJwt(String credential) {
        if (!credential.startsWith("eyJ")) {
            return false;
        }
        int dots = 0;
        int segmentLength = 0;
        for (int i = 0; i < credential.length(); i++) {
            char c = credential.charAt(i);
            if (c == '.') {
                if (segmentLength == 0 || ++dots > 2) {
                    return false;
                }
                segmentLength = 0;
            } else if (isBase64Url(c)) {
                segmentLength++;
            } else {
                return false;
            }
        }
        return dots == 2;
    }

    private static boolean isBase64Url(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static AuthenticationException tooLong() {
        return new AuthenticationException(Reason.MALFORMED, "The credential is too long.");
    }
}
