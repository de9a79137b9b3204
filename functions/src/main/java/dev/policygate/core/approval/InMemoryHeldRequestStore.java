package dev.policygate.core.approval;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Held requests in memory (local mode and tests): bounded, and gone on restart, which fails
 * closed (a pending approval then ends without a forward). Replies are kept for the newest
 * {@code maxReplies} sessions; older ones fall back to the (fully masked) recording.
 */
public final class InMemoryHeldRequestStore implements HeldRequestStore {
    private final int maxHeld;
    private final Map<String, HeldRequest> held = new ConcurrentHashMap<>();
    private final Set<String> claimed = ConcurrentHashMap.newKeySet();
    private final Map<String, byte[]> replies;

    public InMemoryHeldRequestStore(int maxHeld, int maxReplies) {
        this.maxHeld = maxHeld;
        this.replies = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
                return size() > maxReplies;
            }
        });
    }

    @Override
    public void put(HeldRequest request) {
        synchronized (held) {
            if (held.size() >= maxHeld) {
                throw new HeldRequestsFullException(maxHeld);
            }
            held.put(request.sessionId(), request);
        }
    }

    @Override
    public Optional<HeldRequest> get(String sessionId) {
        return Optional.ofNullable(held.get(sessionId));
    }

    @Override
    public boolean claimForward(String sessionId) {
        return held.containsKey(sessionId) && claimed.add(sessionId);
    }

    @Override
    public void delete(String sessionId) {
        held.remove(sessionId);
        claimed.remove(sessionId);
    }

    @Override
    public void putReply(String sessionId, byte[] ownerReply) {
        replies.put(sessionId, ownerReply.clone());
    }

    @Override
    public Optional<byte[]> reply(String sessionId) {
        return Optional.ofNullable(replies.get(sessionId)).map(byte[]::clone);
    }

    /** Too many requests wait for approval at once. */
    public static final class HeldRequestsFullException extends IllegalStateException {
        public HeldRequestsFullException(int max) {
            super("more than " + max + " requests are waiting for approval");
        }
    }
}
