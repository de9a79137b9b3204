package dev.policygate.core.session;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Port: the session index and the recordings. Recordings hold only masked content.
 * Implementations are thread-safe.
 */
public interface SessionStore {
    /**
     * Write-ahead: records that a session has started, before anything is forwarded.
     *
     * @throws IOException if the entry cannot be written (the gateway then fails closed)
     * @throws IllegalStateException if the id already exists
     */
    void begin(SessionSummary inFlight) throws IOException;

    /** Writes the recording and updates the index entry. */
    void complete(SessionSummary summary, ObjectNode recording) throws IOException;

    Optional<SessionSummary> summary(String id);

    Optional<ObjectNode> recording(String id) throws IOException;

    /** Lists sessions matching the query, and for which {@code visible} holds. */
    SessionPage list(SessionQuery query, Predicate<SessionSummary> visible);
}
