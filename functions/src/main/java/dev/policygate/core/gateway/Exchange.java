package dev.policygate.core.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One request/response exchange as it is recorded. Filled in as the request moves through the
 * gateway; turned into the index entry and the recording at the end. Holds masked content only.
 */
final class Exchange {
    final String id;
    final String route;
    final Instant startedAt;
    final long startNanos = System.nanoTime();
    final String sourceIp;
    Principal principal;
    String model;
    boolean stream;
    String decision;
    List<String> policyIds = List.of();
    List<String> messages = List.of();
    Set<String> detections = Set.of();
    final Set<String> maskedInPrompt = new TreeSet<>();
    final Set<String> maskedInReply = new TreeSet<>();
    ObjectNode request;
    ObjectNode reply;
    ObjectNode usage;
    String errorType;
    String errorMessage;
    int httpStatus;
    SessionStatus status = SessionStatus.IN_FLIGHT;
    long decisionMicros;
    long upstreamMillis = -1;
    String upstreamRequestId;
    Instant endedAt;
    final List<ObjectNode> approvalTrail = new ArrayList<>();
    /** Set when the write-ahead collided with another session's id: nothing is written under it. */
    volatile boolean doNotRecord;
    /** When the reply must be complete (the invocation's remaining time), or null. */
    java.time.Instant deadline;

    Exchange(String id, String route, Instant startedAt, String sourceIp) {
        this.id = id;
        this.route = route;
        this.startedAt = startedAt;
        this.sourceIp = sourceIp;
    }

    /**
     * Continues a session from its recording, in another process than the one that started it
     * (the approval workflow's forward on AWS). The principal comes from the held request, since
     * a recording keeps only what may be shown.
     */
    static Exchange restore(ObjectNode rec, Principal principal) {
        Exchange ex = new Exchange(rec.path("session_id").asText(), rec.path("route").asText("messages"),
                Instant.parse(rec.path("started_at").asText()), rec.path("source_ip").asText(null));
        ex.principal = principal;
        ex.model = rec.path("model").asText(null);
        ex.stream = rec.path("stream").asBoolean(false);
        ex.status = SessionStatus.valueOf(rec.path("status").asText(SessionStatus.IN_FLIGHT.name()));
        ex.httpStatus = rec.path("http_status").asInt(0);
        JsonNode d = rec.path("decision");
        if (d.isObject()) {
            ex.decision = d.path("outcome").asText(null);
            ex.policyIds = strings(d.path("policy_ids"));
            ex.messages = strings(d.path("messages"));
        }
        ex.detections = new TreeSet<>(strings(rec.path("detections")));
        ex.maskedInPrompt.addAll(strings(rec.path("masked_in_prompt")));
        if (rec.get("request") instanceof ObjectNode r) {
            ex.request = r;
        }
        ex.decisionMicros = rec.path("timings").path("decision_us").asLong(0);
        for (JsonNode e : rec.path("approval")) {
            if (e instanceof ObjectNode o) {
                ex.approvalTrail.add(o);
            }
        }
        return ex;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(x -> out.add(x.asText()));
        return out;
    }

    synchronized void trail(Instant at, String event, String by, Set<String> groups) {
        ObjectNode e = Json.mapper().createObjectNode();
        e.put("at", at.toString());
        e.put("event", event);
        if (by != null) {
            e.put("by", by);
        }
        if (groups != null && !groups.isEmpty()) {
            ArrayNode g = e.putArray("groups");
            new TreeSet<>(groups).forEach(g::add);
        }
        approvalTrail.add(e);
    }

    SessionSummary summary() {
        return new SessionSummary(id, principal == null ? null : principal.id(), status, decision, route, model,
                httpStatus, policyIds, startedAt, endedAt);
    }

    synchronized ObjectNode recording() {
        ObjectNode r = Json.mapper().createObjectNode();
        r.put("session_id", id);
        r.put("route", route);
        r.put("status", status.name());
        r.put("http_status", httpStatus);
        r.put("started_at", startedAt.toString());
        if (endedAt != null) {
            r.put("ended_at", endedAt.toString());
        }
        r.put("source_ip", sourceIp);
        if (principal != null) {
            ObjectNode p = r.putObject("principal");
            p.put("id", principal.id());
            ArrayNode groups = p.putArray("groups");
            new TreeSet<>(principal.groups()).forEach(groups::add);
            if (principal.email() != null) {
                p.put("email", principal.email());
            }
            p.put("issuer", principal.issuer());
            if (principal.keyId() != null) {
                p.put("key_id", principal.keyId());
            }
            p.put("method", principal.method().name());
        } else {
            r.putNull("principal");
        }
        if (model != null) {
            r.put("model", model);
            r.put("stream", stream);
        }
        if (decision != null) {
            ObjectNode d = r.putObject("decision");
            d.put("outcome", decision);
            ArrayNode ids = d.putArray("policy_ids");
            policyIds.forEach(ids::add);
            ArrayNode msgs = d.putArray("messages");
            messages.forEach(msgs::add);
        }
        ArrayNode det = r.putArray("detections");
        detections.forEach(det::add);
        ArrayNode mp = r.putArray("masked_in_prompt");
        maskedInPrompt.forEach(mp::add);
        ArrayNode mr = r.putArray("masked_in_reply");
        maskedInReply.forEach(mr::add);
        if (request != null) {
            r.set("request", request);
        }
        if (reply != null) {
            r.set("reply", reply);
        }
        if (usage != null) {
            r.set("usage", usage);
        }
        if (errorType != null) {
            ObjectNode e = r.putObject("error");
            e.put("type", errorType);
            e.put("message", errorMessage);
        }
        ObjectNode t = r.putObject("timings");
        t.put("decision_us", decisionMicros);
        if (upstreamMillis >= 0) {
            t.put("upstream_ms", upstreamMillis);
        }
        if (endedAt != null) {
            t.put("total_ms", endedAt.toEpochMilli() - startedAt.toEpochMilli());
        }
        if (upstreamRequestId != null) {
            r.put("upstream_request_id", upstreamRequestId);
        }
        if (!approvalTrail.isEmpty()) {
            ArrayNode a = r.putArray("approval");
            approvalTrail.forEach(a::add);
        }
        return r;
    }
}
