package dev.policygate.core.auth;

import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How bearer JWTs are verified: the one trusted issuer, our audience, and where its keys live.
 *
 * @param issuer        exact {@code iss} value required
 * @param audience      value that {@code aud} must contain
 * @param jwksUri       the issuer's JWKS: {@code https:}, {@code file:} (read once at start-up), or
 *                      {@code http:} to a loopback address only (plain HTTP elsewhere would let
 *                      anyone on the path substitute signing keys)
 * @param groupsClaim   claim holding groups; null or blank means {@value #DEFAULT_GROUPS_CLAIM}
 * @param emailClaim    claim holding the email; null or blank means {@value #DEFAULT_EMAIL_CLAIM}
 * @param clockSkew     tolerance for exp/nbf/iat; null means 60 s; at most 5 min
 * @param maxTokenBytes tokens longer than this are refused unparsed; 0 means
 *                      {@value #DEFAULT_MAX_TOKEN_BYTES}; otherwise 512..8192 (the gateway refuses
 *                      any credential above 8 KB before it reaches the verifier)
 */
public record OidcConfig(String issuer, String audience, URI jwksUri, String groupsClaim, String emailClaim,
                         Duration clockSkew, int maxTokenBytes) {
    public static final String DEFAULT_GROUPS_CLAIM = "groups";
    public static final String DEFAULT_EMAIL_CLAIM = "email";
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    public static final int DEFAULT_MAX_TOKEN_BYTES = 8192;

    public OidcConfig {
        issuer = requireText(issuer, "issuer", 1024);
        audience = requireText(audience, "audience", 1024);
        Objects.requireNonNull(jwksUri, "jwksUri");
        requireSupportedJwksUri(jwksUri);
        groupsClaim = isBlank(groupsClaim) ? DEFAULT_GROUPS_CLAIM : requireText(groupsClaim, "groupsClaim", 128);
        emailClaim = isBlank(emailClaim) ? DEFAULT_EMAIL_CLAIM : requireText(emailClaim, "emailClaim", 128);
        clockSkew = clockSkew == null ? DEFAULT_CLOCK_SKEW : clockSkew;
        if (clockSkew.isNegative() || clockSkew.compareTo(MAX_CLOCK_SKEW) > 0) {
            throw new IllegalArgumentException("clockSkew must be between 0 and 5 minutes");
        }
        maxTokenBytes = maxTokenBytes == 0 ? DEFAULT_MAX_TOKEN_BYTES : maxTokenBytes;
        if (maxTokenBytes < 512 || maxTokenBytes > DEFAULT_MAX_TOKEN_BYTES) {
            throw new IllegalArgumentException("maxTokenBytes must be between 512 and 8192");
        }
    }

    /** A configuration with the default claims, skew and token size. */
    public OidcConfig(String issuer, String audience, URI jwksUri) {
        this(issuer, audience, jwksUri, null, null, null, 0);
    }

    private static void requireSupportedJwksUri(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "https" -> {
                if (isBlank(uri.getHost())) {
                    throw new IllegalArgumentException("jwksUri must name a host");
                }
            }
            case "http" -> {
                if (isBlank(uri.getHost()) || !isLoopback(uri.getHost())) {
                    throw new IllegalArgumentException("jwksUri must use https (http is allowed for loopback only)");
                }
            }
            case "file" -> {
                if (isBlank(uri.getPath())) {
                    throw new IllegalArgumentException("jwksUri file: must name a path");
                }
            }
            default -> throw new IllegalArgumentException("jwksUri must be an https:, http: (loopback) or file: URI");
        }
    }

    /** Whether {@code host} is a literal loopback address or "localhost" (never resolved through DNS). */
    public static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        // Only literal addresses: resolving a name here would make configuration depend on DNS.
        if (!h.matches("[0-9.]+|[0-9A-Fa-f:]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static String requireText(String value, String name, int maxLength) {
        if (isBlank(value) || value.length() > maxLength || value.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException(name + " must be 1.." + maxLength + " printable characters");
        }
        return value;
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
