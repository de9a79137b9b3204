package dev.policygate.core.decision;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Remembers the decisions of one engine that are a function of a short {@link Key}.
 *
 * <p>Why this is exact. The engine's policies never change after load, and Cedar sees only the
 * principal with its parent groups, the action, the resource with its attributes, the context,
 * and the bare entities that the context references. A request with resource attributes is never
 * memoised. Any other request is memoised in one of two ways:
 * <ul>
 *   <li><b>Context left out</b>, when no policy that Cedar is given for the request's action and
 *   resource can read the context ({@link ContextUse}). The policies then cannot observe it; but
 *   Cedar still receives it and rejects some contexts outright (a malformed address, a reserved
 *   {@code __entity} or {@code __extn} key, deep nesting), and entity references in it would add
 *   entities. So this key is used only for contexts of plain values nested at most
 *   {@value #MAX_DEPTH} levels, with no key starting with {@code __} or holding a surrogate, no
 *   entity reference, and only addresses that Cedar is known to accept ({@link CedarAddresses}):
 *   parsing is deterministic.
 *   Two such requests with the same key give Cedar the same entities and the same policies, which
 *   evaluate the same.</li>
 *   <li><b>Context in the key</b>, when the context is a few short scalars, such as
 *   {@code read_unmasked}'s {@code direction}: the key then holds the whole request.</li>
 * </ul>
 *
 * <p>Limits: holds at most {@code capacity} decisions and forgets all of them when full, which
 * costs only re-evaluation ({@link CedarAddresses} bounds the addresses it relies on). Decisions with evaluation
 * errors are never stored. Thread-safe.
 */
final class DecisionMemo {
    /** How deeply a context left out of the key may nest; Cedar rejects far deeper ones. */
    static final int MAX_DEPTH = 8;
    /** How many entries, and how long a string, a context kept in the key may have. */
    static final int MAX_KEYED_ENTRIES = 4;
    static final int MAX_KEYED_STRING = 128;
    private static final String RESERVED_PREFIX = "__";

    /**
     * Everything a memoised decision depends on.
     *
     * @param context null when no policy that can apply reads the context; otherwise the whole context
     */
    record Key(EntityRef principal, Set<String> principalParents, Action action, EntityRef resource,
               Map<String, Object> context) {
    }

    private final int capacity;
    private final Map<Key, Decision> decisions = new ConcurrentHashMap<>();
    private final CedarAddresses addresses;
    private final LongAdder hits = new LongAdder();

    DecisionMemo(int capacity, CedarAddresses addresses) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.addresses = java.util.Objects.requireNonNull(addresses, "addresses");
    }

    /**
     * The key of {@code request}, or null when its decision may depend on more than a key.
     *
     * @param contextRead whether a policy that Cedar is given for this request may read the context
     */
    Key keyOf(AuthzRequest request, boolean contextRead) {
        if (!request.resourceAttributes().isEmpty()) {
            return null;
        }
        // AuthzRequest already holds an immutable copy of the parents, so the key can keep it.
        if (!contextRead && parsesAlike(request.context(), 0)) {
            return new Key(request.principal(), request.principalParents(), request.action(), request.resource(),
                    null);
        }
        Map<String, Object> scalars = scalars(request.context());
        return scalars == null ? null
                : new Key(request.principal(), request.principalParents(), request.action(), request.resource(),
                scalars);
    }

    /** The remembered decision, or null. */
    Decision get(Key key) {
        Decision decision = decisions.get(key);
        if (decision != null) {
            hits.increment();
        }
        return decision;
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

    /** How many decisions were answered from memory. */
    long hits() {
        return hits.sum();
    }

    /** Whether the engine converts {@code value} and Cedar parses it, as it did every other such value. */
    private boolean parsesAlike(Object value, int depth) {
        if (value instanceof String || value instanceof Boolean || value instanceof Long || value instanceof Integer
                || value instanceof Short || value instanceof Byte) {
            return true;
        }
        if (value instanceof IpAddress ip) {
            return addresses.accepted(ip.address());
        }
        if (depth >= MAX_DEPTH) {
            return false;
        }
        if (value instanceof Collection<?> items) {
            for (Object item : items) {
                if (item == null || !parsesAlike(item, depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        if (value instanceof Map<?, ?> record) {
            for (Map.Entry<?, ?> entry : record.entrySet()) {
                // A null value is an absent attribute: the engine leaves it out.
                if (!(entry.getKey() instanceof String name) || !plainName(name)
                        || entry.getValue() != null && !parsesAlike(entry.getValue(), depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        // Entity references add entities; anything else the engine cannot convert.
        return false;
    }

    /**
     * Not reserved by Cedar's JSON form, and free of surrogates: two names that differ only in
     * unpaired surrogates could reach Cedar as the same name, which it rejects as a duplicate.
     */
    private static boolean plainName(String name) {
        return !name.startsWith(RESERVED_PREFIX) && name.chars().noneMatch(c -> Character.isSurrogate((char) c));
    }

    /** An immutable copy of a context of a few short scalars, or null when it is anything else. */
    private static Map<String, Object> scalars(Map<String, Object> context) {
        if (context.size() > MAX_KEYED_ENTRIES) {
            return null;
        }
        for (Map.Entry<String, Object> entry : context.entrySet()) {
            Object value = entry.getValue();
            boolean shortString = value instanceof String s && s.length() <= MAX_KEYED_STRING;
            if (entry.getKey() == null || !(shortString || value instanceof Long || value instanceof Boolean)) {
                return null;
            }
        }
        return Map.copyOf(context);
    }
}
