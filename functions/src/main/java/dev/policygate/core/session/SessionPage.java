package dev.policygate.core.session;

import java.util.List;

/** One page of a session listing; {@code nextCursor} is null on the last page. */
public record SessionPage(List<SessionSummary> sessions, String nextCursor) {
}
