package dev.policygate.core.approval;

import java.io.IOException;
import java.util.Optional;

/**
 * Port: where held requests wait for a decision, and where the reply to an approved request
 * waits for its owner. In memory locally; sealed objects in S3 with a DynamoDB claim on AWS.
 * Implementations are thread-safe.
 */
public interface HeldRequestStore {
    /** Keeps a held request until {@link #delete}. */
    void put(HeldRequest held) throws IOException;

    Optional<HeldRequest> get(String sessionId) throws IOException;

    /**
     * Claims the single forward of an approved request: true for exactly one caller per session,
     * however often a workflow retries, so that Claude is never called twice for one approval.
     */
    boolean claimForward(String sessionId) throws IOException;

    /** Forgets the held request (after it was forwarded, denied or expired). Idempotent. */
    void delete(String sessionId) throws IOException;

    /** Keeps the reply of an approved request, masked for its owner, for {@code GET /v1/sessions/{id}}. */
    void putReply(String sessionId, byte[] ownerReply) throws IOException;

    Optional<byte[]> reply(String sessionId) throws IOException;
}
