package dev.policygate.core.session;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Optional;

/**
 * Port: the session recordings (S3 on AWS): one object per session, holding masked content only.
 */
public interface SessionRecorder {
    /** Writes (or replaces) the recording of a session. */
    void write(SessionSummary summary, ObjectNode recording) throws IOException;

    /** Reads the recording of a session whose index entry is {@code summary}. */
    Optional<ObjectNode> read(SessionSummary summary) throws IOException;
}
