package dev.policygate.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStore;
import dev.policygate.core.session.SessionSummary;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Sessions in memory, so that a benchmark measures the gateway and not its storage. Keeps only
 * the newest {@value #CAPACITY} sessions (a long run must not fill the heap) and does not check
 * write-ahead collisions or list anything: it is a stub for the forward path, not a store.
 */
final class InMemorySessionStore implements SessionStore {
    static final int CAPACITY = 1024;

    private final Map<String, Entry> sessions = new LinkedHashMap<>(2 * CAPACITY, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > CAPACITY;
        }
    };
    private Entry newest;

    private record Entry(SessionSummary summary, ObjectNode recording) {
    }

    @Override
    public synchronized void begin(SessionSummary inFlight) {
        sessions.put(inFlight.id(), new Entry(inFlight, null));
    }

    @Override
    public synchronized void complete(SessionSummary summary, ObjectNode recording) {
        // the gateway builds a new recording for every call and never changes it afterwards
        newest = new Entry(summary, recording);
        sessions.put(summary.id(), newest);
    }

    @Override
    public synchronized Optional<SessionSummary> summary(String id) {
        return Optional.ofNullable(sessions.get(id)).map(Entry::summary);
    }

    @Override
    public synchronized Optional<ObjectNode> recording(String id) {
        return Optional.ofNullable(sessions.get(id)).map(Entry::recording);
    }

    @Override
    public SessionPage list(SessionQuery query, Predicate<SessionSummary> visible) {
        return new SessionPage(List.of(), null);
    }

    /** The index entry of the session completed last, or null. */
    synchronized SessionSummary newestSummary() {
        return newest == null ? null : newest.summary();
    }

    /** The recording of the session completed last, or null. */
    synchronized ObjectNode newestRecording() {
        return newest == null ? null : newest.recording();
    }
}
