package dev.policygate.core.session;

import java.io.IOException;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Port: the session index (DynamoDB on AWS). Small entries, no content. Implementations are
 * thread-safe and retry transient failures themselves before throwing.
 */
public interface SessionIndex {
    /**
     * Write-ahead: creates the entry only if no entry with that id exists.
     *
     * @throws IllegalStateException if the id already exists (a conditional write collided)
     * @throws IOException           if the entry could not be written after retries
     */
    void begin(SessionSummary inFlight) throws IOException;

    /** Creates or replaces the entry. */
    void update(SessionSummary summary) throws IOException;

    Optional<SessionSummary> get(String id) throws IOException;

    /** Newest first, filtered, then limited to {@code visible}. */
    SessionPage list(SessionQuery query, Predicate<SessionSummary> visible) throws IOException;
}
