package dev.policygate.core.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Gateway API keys: creation, hashing and the non-secret key id.
 *
 * <p>A key is {@code "pgk_"} followed by 256 random bits in unpadded base64url. Only its SHA-256
 * is ever stored; the key id is a short prefix of that hash and may be shown and logged. This
 * class never logs and never keeps a key.
 */
public final class ApiKeys {
    /** Prefix of every gateway key. */
    public static final String PREFIX = "pgk_";

    private static final int KEY_BYTES = 32;
    private static final Pattern KEY = Pattern.compile("pgk_[A-Za-z0-9_-]{43}");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private ApiKeys() {
    }

    /** A new random key. Show it once to its owner; store only {@link #hash(String)}. */
    public static String newKey() {
        // A fresh SecureRandom per call: a generator seeded before a SnapStart snapshot would
        // hand the same sequence to every restored instance.
        byte[] bytes = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(bytes);
        return PREFIX + BASE64URL.encodeToString(bytes);
    }

    /** Lowercase hex SHA-256 of the key's UTF-8 bytes. */
    public static String hash(String key) {
        Objects.requireNonNull(key, "key");
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** The non-secret id of the key with this hash: {@code "key_"} and the first 12 hex digits. */
    public static String keyId(String sha256) {
        if (!isSha256Hex(sha256)) {
            throw new IllegalArgumentException("sha256 must be 64 lowercase hex digits");
        }
        return "key_" + sha256.substring(0, 12);
    }

    /** Whether {@code s} has the shape of a gateway key (says nothing about its validity). */
    public static boolean looksLikeKey(String s) {
        return s != null && KEY.matcher(s).matches();
    }

    /** Whether {@code s} is 64 lowercase hex digits. */
    public static boolean isSha256Hex(String s) {
        return s != null && SHA256_HEX.matcher(s).matches();
    }
}
