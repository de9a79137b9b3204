package dev.policygate.core.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A request that policy holds for approval, as it must be kept until an approver decides: the
 * original body (unmasked: it is what Claude gets if approved), the caller, and what the
 * approvers are shown. It never goes into a recording, a log or a workflow's input; stores
 * keep it sealed ({@link Sealer}) and delete it once the request is decided.
 *
 * @param anthropicHeaders the validated {@code anthropic-*} headers to forward
 * @param maskedExcerpt    the prompt excerpt shown to approvers, fully masked
 */
public record HeldRequest(String sessionId, Principal principal, byte[] body, Map<String, String> anthropicHeaders,
                          String sourceIp, String model, List<String> reasons, Set<String> groups,
                          List<String> policyIds, String maskedExcerpt, Instant createdAt) {
    public HeldRequest {
        body = body.clone();
        anthropicHeaders = Map.copyOf(anthropicHeaders);
        reasons = List.copyOf(reasons);
        groups = Set.copyOf(groups);
        policyIds = List.copyOf(policyIds);
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    /** What {@link ApprovalService#open} needs to notify the approvers. */
    public ApprovalService.Hold hold() {
        return new ApprovalService.Hold(sessionId, principal.id(), principal.email(), model, reasons, groups,
                maskedExcerpt);
    }

    public byte[] toJson() {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("v", 1);
        n.put("session_id", sessionId);
        ObjectNode p = n.putObject("principal");
        p.put("id", principal.id());
        ArrayNode pg = p.putArray("groups");
        new TreeSet<>(principal.groups()).forEach(pg::add);
        p.put("email", principal.email());
        p.put("issuer", principal.issuer());
        p.put("key_id", principal.keyId());
        p.put("method", principal.method().name());
        n.put("body", Base64.getEncoder().encodeToString(body));
        ObjectNode h = n.putObject("anthropic_headers");
        anthropicHeaders.forEach(h::put);
        n.put("source_ip", sourceIp);
        n.put("model", model);
        ArrayNode r = n.putArray("reasons");
        reasons.forEach(r::add);
        ArrayNode g = n.putArray("groups");
        new TreeSet<>(groups).forEach(g::add);
        ArrayNode ids = n.putArray("policy_ids");
        policyIds.forEach(ids::add);
        n.put("masked_excerpt", maskedExcerpt);
        n.put("created_at", createdAt.toString());
        try {
            return Json.mapper().writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @throws IOException if the bytes are not a held request this version wrote */
    public static HeldRequest fromJson(byte[] json) throws IOException {
        JsonNode n = Json.mapper().readTree(json);
        if (n == null || n.path("v").asInt() != 1) {
            throw new IOException("not a held request (version " + (n == null ? "none" : n.path("v")) + ")");
        }
        try {
            JsonNode p = n.get("principal");
            Principal principal = new Principal(p.get("id").asText(), strings(p.get("groups"), new TreeSet<>()),
                    text(p, "email"), text(p, "issuer"), text(p, "key_id"),
                    Principal.Method.valueOf(p.get("method").asText()));
            Map<String, String> headers = new LinkedHashMap<>();
            n.get("anthropic_headers").fields().forEachRemaining(e -> headers.put(e.getKey(), e.getValue().asText()));
            return new HeldRequest(n.get("session_id").asText(), principal,
                    Base64.getDecoder().decode(n.get("body").asText()), headers, text(n, "source_ip"),
                    n.get("model").asText(), strings(n.get("reasons"), new ArrayList<>()),
                    strings(n.get("groups"), new TreeSet<>()), strings(n.get("policy_ids"), new ArrayList<>()),
                    text(n, "masked_excerpt"), Instant.parse(n.get("created_at").asText()));
        } catch (RuntimeException e) {
            throw new IOException("a held request is not readable: " + e.getClass().getSimpleName(), e);
        }
    }

    private static <C extends java.util.Collection<String>> C strings(JsonNode array, C into) {
        array.forEach(x -> into.add(x.asText()));
        return into;
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : null;
    }
}
