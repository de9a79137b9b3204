package dev.policygate.core.auth;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A stored gateway key: its hash and whom it authenticates. Never the key itself.
 *
 * @param keyId     non-secret id, see {@link ApiKeys#keyId(String)}
 * @param sha256    lowercase hex SHA-256 of the key
 * @param principal principal id, 1..128 chars of {@code [A-Za-z0-9._@:+-]}
 * @param groups    group ids, same alphabet, at most {@value #MAX_GROUPS}
 * @param email     owner's email, or null
 * @param createdAt when the key was created
 * @param revoked   whether the key is revoked
 */
public record ApiKeyRecord(String keyId, String sha256, String principal, Set<String> groups, String email,
                           Instant createdAt, boolean revoked) {
    public static final int MAX_GROUPS = 256;

    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
    private static final Pattern EMAIL = Pattern.compile("[^\\s@\\p{Cntrl}]{1,256}@[^\\s@\\p{Cntrl}]{1,255}");

    public ApiKeyRecord {
        if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
            throw new IllegalArgumentException("keyId must be 1..64 chars of [A-Za-z0-9_-]");
        }
        if (!ApiKeys.isSha256Hex(sha256)) {
            throw new IllegalArgumentException("sha256 must be 64 lowercase hex digits");
        }
        if (!isValidName(principal)) {
            throw new IllegalArgumentException("principal must be 1..128 chars of [A-Za-z0-9._@:+-]");
        }
        groups = groups == null ? Set.of() : Set.copyOf(groups);
        if (groups.size() > MAX_GROUPS) {
            throw new IllegalArgumentException("at most " + MAX_GROUPS + " groups");
        }
        for (String group : groups) {
            if (!isValidName(group)) {
                throw new IllegalArgumentException("groups must be 1..128 chars of [A-Za-z0-9._@:+-]");
            }
        }
        if (email != null && (email.length() > 320 || !EMAIL.matcher(email).matches())) {
            throw new IllegalArgumentException("email is not a valid address");
        }
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** Whether {@code s} is a valid principal or group id for a key record. */
    public static boolean isValidName(String s) {
        return s != null && NAME.matcher(s).matches();
    }

    /** This record, revoked. */
    public ApiKeyRecord asRevoked() {
        return new ApiKeyRecord(keyId, sha256, principal, groups, email, createdAt, true);
    }
}
