package dev.policygate.aws.logging;

import dev.policygate.core.session.SessionIds;

/**
 * The {@code session_id} key of a log line, and how a line names its session.
 *
 * <p>The core never depends on a logging framework, so it cannot put the session id into a
 * logging context itself. It does something simpler and already checked: every line it logs about a
 * session begins {@code "session <id>: "} (or {@code "session <id> "}). This class reads that
 * prefix back. Lines without it carry the session id only when the handler knew it
 * ({@link LambdaLogging#invocation}) or an earlier line of the same invocation named it.
 */
final class SessionKey {
    /** The structured key, in Powertools' snake_case. */
    static final String NAME = "session_id";
    private static final String PREFIX = "session ";
    private static final int ID_LENGTH = 26;

    private SessionKey() {
    }

    /**
     * The session id a message starts with, or {@code null}. Only a well-formed Policygate id
     * followed by {@code ':'} or a space counts, so free text cannot inject a key value.
     */
    static String fromMessage(String message) {
        if (message == null || message.length() < PREFIX.length() + ID_LENGTH + 1 || !message.startsWith(PREFIX)) {
            return null;
        }
        int end = PREFIX.length() + ID_LENGTH;
        char after = message.charAt(end);
        if (after != ':' && after != ' ') {
            return null;
        }
        String id = message.substring(PREFIX.length(), end);
        return SessionIds.isValid(id) ? id : null;
    }
}
