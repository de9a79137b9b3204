package dev.policygate.core.session;

import java.time.Instant;
import java.util.List;

/**
 * The index entry of a session: what audit queries filter on. Small, and free of content.
 */
public record SessionSummary(String id, String principal, SessionStatus status, String decision, String route,
                             String model, int httpStatus, List<String> policyIds, Instant startedAt,
                             Instant endedAt) {
    public SessionSummary {
        policyIds = policyIds == null ? List.of() : List.copyOf(policyIds);
    }
}
