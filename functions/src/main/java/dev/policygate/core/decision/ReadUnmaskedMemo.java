package dev.policygate.core.decision;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers {@code read_unmasked} decisions of one engine.
 *
 * <p>Why this is exact: for a {@code read_unmasked} request without resource attributes and with
 * a context of only {@code direction}, every input Cedar sees (the principal and its parent
 * groups, the resource, the context) is a function of {@link Key}, and the engine's policies never
 * change after load. Requests of any other shape are not memoised.
 *
 * <p>Limits: holds at most {@code capacity} decisions and forgets all of them when full, which
 * costs only re-evaluation. Decisions with evaluation errors are never stored. Thread-safe.
 */
final class ReadUnmaskedMemo {
    static final String DIRECTION = "direction";

    /** Everything a memoisable {@code read_unmasked} decision depends on. */
    record Key(EntityRef principal, Set<String> principalParents, EntityRef resource, String direction) {
    }

    private final int capacity;
    private final Map<Key, Decision> decisions = new ConcurrentHashMap<>();

    ReadUnmaskedMemo(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
    }

    /** The key of {@code request}, or null when its decision may depend on more than the key. */
    static Key keyOf(AuthzRequest request) {
        if (request.action() != Action.read_unmasked || !request.resourceAttributes().isEmpty()
                || request.context().size() != 1
                || !(request.context().get(DIRECTION) instanceof String direction)) {
            return null;
        }
        // AuthzRequest already holds an immutable copy of the parents, so the key can keep it.
        return new Key(request.principal(), request.principalParents(), request.resource(), direction);
    }

    /** The remembered decision, or null. */
    Decision get(Key key) {
        return decisions.get(key);
    }

    /** Remembers {@code decision} unless it carries evaluation errors. */
    void put(Key key, Decision decision) {
        if (!decision.errors().isEmpty()) {
            return;
        }
        if (decisions.size() >= capacity) {
            // A burst of distinct principals only costs re-evaluation; no eviction order to maintain.
            decisions.clear();
        }
        decisions.put(key, decision);
    }

    int size() {
        return decisions.size();
    }
}
