package dev.policygate.core.auth;

import java.util.List;
import java.util.Optional;

/**
 * Port: where gateway key records live. Stores hold hashes only, never a key.
 *
 * <p>Implementations are thread-safe. They fail closed: when the backing store cannot be read
 * they throw an unchecked exception rather than answer from data they cannot vouch for.
 */
public interface ApiKeyStore {
    /** The record whose key hashes to {@code sha256} (lowercase hex), revoked or not. */
    Optional<ApiKeyRecord> findByHash(String sha256);

    /**
     * Adds a record, or replaces the record with the same key id and hash.
     *
     * @throws IllegalStateException when the key id or the hash already belongs to another record
     */
    void put(ApiKeyRecord record);

    /** Marks the key revoked. Returns false when there is no key with this id. */
    boolean revoke(String keyId);

    /** All records, revoked ones included, oldest first. */
    List<ApiKeyRecord> list();
}
