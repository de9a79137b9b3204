package dev.policygate.aws.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalState;
import dev.policygate.core.approval.ApprovalStore;
import dev.policygate.core.json.Json;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Approval records in the Policygate table, as items {@code APPROVAL#<id>} holding the state
 * (for conditions), the whole record as JSON, and the TTL attribute. {@link #updateIfPending}
 * is a conditional put on {@code state = PENDING}, so a decision takes effect exactly once even
 * when two clicks race in two Lambda instances. The task token of the workflow, when there is
 * one, is part of the record and never leaves the table.
 */
public final class DynamoApprovalStore implements ApprovalStore {
    private static final String STATE = "state";
    private static final String RECORD = "record";
    private static final String APPROVAL_ID = "approval_id";
    /** Approval items outlive their expiry by this long, for the audit trail in the index. */
    private static final long KEEP_SECONDS = 30L * 24 * 3600;

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoApprovalStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    /**
     * Writes the session's pointer first ({@code APPROVAL_SESSION#<session id>}, conditional on
     * not existing), then the record. A pointer left without its record by a crash in between is
     * taken over by the next create for that session.
     */
    @Override
    public void create(ApprovalRecord record) {
        try {
            Map<String, AttributeValue> pointer = new HashMap<>(sessionKey(record.sessionId()));
            pointer.put(APPROVAL_ID, AttributeValue.fromS(record.approvalId()));
            pointer.put(PolicygateTable.TTL_ATTRIBUTE, ttl(record));
            try {
                DynamoCalls.call("PutItem", () -> dynamo.putItem(b -> b.tableName(table).item(pointer)
                        .conditionExpression("attribute_not_exists(#pk)")
                        .expressionAttributeNames(Map.of("#pk", PolicygateTable.PK))));
            } catch (ConditionalCheckFailedException e) {
                String current = pointedId(record.sessionId()).orElse(null);
                if (current != null && !current.equals(record.approvalId())) {
                    if (get(current).isPresent()) {
                        throw new IllegalStateException("the session already has an approval");
                    }
                    DynamoCalls.call("PutItem", () -> dynamo.putItem(b -> b.tableName(table).item(pointer)
                            .conditionExpression("#id = :old")
                            .expressionAttributeNames(Map.of("#id", APPROVAL_ID))
                            .expressionAttributeValues(Map.of(":old", AttributeValue.fromS(current)))));
                }
            }
            DynamoCalls.call("PutItem", () -> dynamo.putItem(b -> b.tableName(table).item(item(record))
                    .conditionExpression("attribute_not_exists(#pk)")
                    .expressionAttributeNames(Map.of("#pk", PolicygateTable.PK))));
        } catch (ConditionalCheckFailedException e) {
            throw new IllegalStateException("approval id or session collision");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<ApprovalRecord> findBySession(String sessionId) {
        return pointedId(sessionId).flatMap(this::get);
    }

    private Optional<String> pointedId(String sessionId) {
        try {
            Map<String, AttributeValue> item = DynamoCalls.call("GetItem", () -> dynamo.getItem(b -> b.tableName(table)
                    .key(sessionKey(sessionId)).consistentRead(true))).item();
            return item == null || !item.containsKey(APPROVAL_ID) ? Optional.empty()
                    : Optional.of(item.get(APPROVAL_ID).s());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<ApprovalRecord> get(String approvalId) {
        try {
            Map<String, AttributeValue> item = DynamoCalls.call("GetItem", () -> dynamo.getItem(b -> b.tableName(table)
                    .key(key(approvalId)).consistentRead(true))).item();
            return item == null || item.isEmpty() ? Optional.empty() : Optional.of(parse(item.get(RECORD).s()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<ApprovalRecord> updateIfPending(String approvalId, UnaryOperator<ApprovalRecord> change) {
        Optional<ApprovalRecord> current = get(approvalId);
        if (current.isEmpty() || current.get().state() != ApprovalState.PENDING) {
            return Optional.empty();
        }
        ApprovalRecord next = change.apply(current.get());
        try {
            // the condition also covers a record that another instance changed meanwhile
            DynamoCalls.call("PutItem", () -> dynamo.putItem(b -> b.tableName(table).item(item(next))
                    .conditionExpression("#state = :pending AND #record = :seen")
                    .expressionAttributeNames(Map.of("#state", STATE, "#record", RECORD))
                    .expressionAttributeValues(Map.of(":pending", AttributeValue.fromS(ApprovalState.PENDING.name()),
                            ":seen", AttributeValue.fromS(json(current.get()))))));
            return Optional.of(next);
        } catch (ConditionalCheckFailedException e) {
            // a retried put whose first attempt landed finds its own write: that is a success
            Optional<ApprovalRecord> now = get(approvalId);
            return now.isPresent() && json(now.get()).equals(json(next)) ? now : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, AttributeValue> sessionKey(String sessionId) {
        return Map.of(PolicygateTable.PK, AttributeValue.fromS(PolicygateTable.APPROVAL_SESSION_PREFIX + sessionId));
    }

    private static AttributeValue ttl(ApprovalRecord r) {
        return AttributeValue.fromN(Long.toString(r.expiresAt().getEpochSecond() + KEEP_SECONDS));
    }

    private static Map<String, AttributeValue> key(String approvalId) {
        return Map.of(PolicygateTable.PK, AttributeValue.fromS(PolicygateTable.APPROVAL_PREFIX + approvalId));
    }

    private static Map<String, AttributeValue> item(ApprovalRecord r) {
        Map<String, AttributeValue> item = new HashMap<>(key(r.approvalId()));
        item.put(STATE, AttributeValue.fromS(r.state().name()));
        item.put(RECORD, AttributeValue.fromS(json(r)));
        item.put(PolicygateTable.TTL_ATTRIBUTE, ttl(r));
        return item;
    }

    static String json(ApprovalRecord r) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("approval_id", r.approvalId());
        n.put("session_id", r.sessionId());
        n.put("requester", r.requester());
        n.put("requester_email", r.requesterEmail());
        n.put("model", r.model());
        ArrayNode reasons = n.putArray("reasons");
        r.reasons().forEach(reasons::add);
        ArrayNode groups = n.putArray("groups");
        new TreeSet<>(r.groups()).forEach(groups::add);
        ObjectNode approvers = n.putObject("approvers");
        new java.util.TreeMap<>(r.approvers()).forEach((email, gs) -> {
            ArrayNode a = approvers.putArray(email);
            new TreeSet<>(gs).forEach(a::add);
        });
        n.put("created_at", r.createdAt().toString());
        n.put("expires_at", r.expiresAt().toString());
        n.put("state", r.state().name());
        ObjectNode decisions = n.putObject("group_decisions");
        new java.util.TreeMap<>(r.groupDecisions()).forEach(decisions::put);
        n.put("decided_by", r.decidedBy());
        n.put("decided_at", r.decidedAt() == null ? null : r.decidedAt().toString());
        n.put("prompt_excerpt", r.promptExcerpt());
        n.put("task_token", r.taskToken());
        return n.toString();
    }

    static ApprovalRecord parse(String text) {
        try {
            JsonNode n = Json.mapper().readTree(text);
            List<String> reasons = new ArrayList<>();
            n.path("reasons").forEach(x -> reasons.add(x.asText()));
            Set<String> groups = new TreeSet<>();
            n.path("groups").forEach(x -> groups.add(x.asText()));
            Map<String, Set<String>> approvers = new HashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = n.path("approvers").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                Set<String> gs = new TreeSet<>();
                e.getValue().forEach(x -> gs.add(x.asText()));
                approvers.put(e.getKey(), gs);
            }
            Map<String, String> decisions = new HashMap<>();
            n.path("group_decisions").fields().forEachRemaining(e -> decisions.put(e.getKey(), e.getValue().asText()));
            return new ApprovalRecord(n.get("approval_id").asText(), n.get("session_id").asText(),
                    n.get("requester").asText(), text(n, "requester_email"), n.get("model").asText(), reasons, groups,
                    approvers, Instant.parse(n.get("created_at").asText()), Instant.parse(n.get("expires_at").asText()),
                    ApprovalState.valueOf(n.get("state").asText()), decisions, text(n, "decided_by"),
                    n.hasNonNull("decided_at") ? Instant.parse(n.get("decided_at").asText()) : null,
                    text(n, "prompt_excerpt"), text(n, "task_token"));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("an approval record in the table is not readable", e);
        }
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : null;
    }
}
