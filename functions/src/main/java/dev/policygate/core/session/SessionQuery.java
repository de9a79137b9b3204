package dev.policygate.core.session;

import java.time.Instant;

/**
 * Filters for listing sessions; null means "any". Results are newest first.
 *
 * @param after a paging cursor: only ids strictly older than this one
 */
public record SessionQuery(String principal, SessionStatus status, String decision, Instant from, Instant to,
                           int limit, String after) {
    public static final int MAX_LIMIT = 200;

    public SessionQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT);
        }
    }
}
