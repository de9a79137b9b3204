package dev.policygate.core.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.decision.Decision;
import dev.policygate.core.decision.PolicyEngine;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.GatewayError;
import dev.policygate.core.gateway.RequestDecider;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStore;
import dev.policygate.core.session.SessionSummary;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Use case: "what would this policy change have done?" Re-decides recorded sessions with a
 * candidate policy set, exactly as the gateway decides ({@link RequestDecider}), and lists the
 * sessions whose outcome would differ, with the deciding policies.
 *
 * <p>Limit: recordings hold masked content, so the replayed {@code context.prompt} has
 * {@code [EMAIL]}-style placeholders where entities were; {@code context.detections} is the
 * recorded set, so policies on detections replay exactly, while a policy matching a literal
 * sensitive value cannot. Everything else (principal and groups, model, tools, skills, MCP
 * servers, token budget, stream, source IP) is replayed as recorded.
 */
public final class PolicyReplay {
    /** A session whose outcome would change. */
    public record Change(String sessionId, Instant startedAt, String principal, String model, String recorded,
                         String replayed, List<String> policyIds, List<String> messages) {
    }

    /** What a replay examined and found. */
    public record Report(int examined, int skipped, List<Change> changes) {
    }

    private final RequestDecider decider;
    private final RequestAnalyzer analyzer;

    public PolicyReplay(PolicyEngine candidate, DetectorSet detectors) {
        this.decider = new RequestDecider(candidate);
        this.analyzer = new RequestAnalyzer(detectors);
    }

    /**
     * @param max the most sessions to examine (newest first)
     */
    public Report replay(SessionStore store, Instant from, Instant to, int max) throws IOException {
        int examined = 0;
        int skipped = 0;
        List<Change> changes = new ArrayList<>();
        String cursor = null;
        do {
            SessionPage page = store.list(new SessionQuery(null, null, null, from, to, SessionQuery.MAX_LIMIT, cursor),
                    s -> true);
            for (SessionSummary s : page.sessions()) {
                if (examined + skipped >= max) {
                    return new Report(examined, skipped, changes);
                }
                if (!replayable(s)) {
                    continue;
                }
                Change c = replayOne(store, s);
                if (c == null) {
                    skipped++;
                } else {
                    examined++;
                    if (!c.recorded().equals(c.replayed())) {
                        changes.add(c);
                    }
                }
            }
            cursor = page.nextCursor();
        } while (cursor != null);
        return new Report(examined, skipped, changes);
    }

    private static boolean replayable(SessionSummary s) {
        return s.decision() != null && Set.of("ALLOW", "DENY", "APPROVAL").contains(s.decision())
                && s.principal() != null
                && (s.route().equals("POST /v1/messages") || s.route().equals("POST /v1/messages/count_tokens"));
    }

    /** Returns null when the recording cannot be replayed (missing, or no request in it). */
    private Change replayOne(SessionStore store, SessionSummary s) throws IOException {
        ObjectNode rec = store.recording(s.id()).orElse(null);
        if (rec == null || !(rec.get("request") instanceof ObjectNode request)) {
            return null;
        }
        boolean countTokens = s.route().endsWith("count_tokens");
        AnalysedRequest a;
        try {
            a = analyzer.analyse(Json.mapper().writeValueAsBytes(request),
                    countTokens ? RequestAnalyzer.Operation.COUNT_TOKENS : RequestAnalyzer.Operation.MESSAGES);
        } catch (GatewayError e) {
            return null;
        }
        Set<String> groups = new TreeSet<>();
        rec.path("principal").path("groups").forEach(g -> groups.add(g.asText()));
        Set<String> detections = new TreeSet<>();
        for (JsonNode d : rec.path("detections")) {
            detections.add(d.asText());
        }
        String ip = rec.path("source_ip").asText("0.0.0.0");
        Decision d = decider.decide(s.principal(), groups, a, detections, ip,
                countTokens ? "count_tokens" : "messages", false, null);
        return new Change(s.id(), s.startedAt(), s.principal(), s.model(), s.decision(), d.outcome().name(),
                d.policyIds(), d.messages());
    }
}
