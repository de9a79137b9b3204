package dev.policygate.aws.dynamodb;

import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeyStore;
import dev.policygate.core.auth.ApiKeys;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static dev.policygate.aws.dynamodb.PolicygateTable.BY_DAY;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI3_PK;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI3_SK;
import static dev.policygate.aws.dynamodb.PolicygateTable.KEYS_PARTITION;
import static dev.policygate.aws.dynamodb.PolicygateTable.KEY_PREFIX;
import static dev.policygate.aws.dynamodb.PolicygateTable.PK;

/**
 * Gateway key records in the {@link PolicygateTable}: one {@code KEY#<sha256>} item per key,
 * holding the hash (in the key), never the key.
 *
 * <p>{@link #findByHash} is a consistent read of that item, so a key created or revoked by any
 * instance counts at once, on every instance, without a cache to go stale.
 *
 * <p>Revoking and listing are admin operations. They query the overloaded
 * {@value PolicygateTable#BY_DAY} partition {@value PolicygateTable#KEYS_PARTITION}, which holds
 * only the key items sorted by key id, so they never scan the session items that share the
 * table. That index is eventually consistent: a key created a moment ago may be missing from a
 * listing for a moment, and the check that a key id is not already used by another hash (in
 * {@link #put}) is not atomic. Key ids derive from the hash ({@link ApiKeys#keyId}), so such a
 * race needs two keys whose hashes share 48 bits. The hash itself is unique by construction:
 * the put is conditional on it.
 *
 * <p>Fails closed: a failure to read or write DynamoDB, after the client's retries, is thrown as
 * an {@link UncheckedIOException}; a malformed item as an {@link IllegalStateException}.
 * Thread-safe.
 */
public final class DynamoApiKeyStore implements ApiKeyStore {
    static final String KEY_ID = "key_id";
    static final String PRINCIPAL = "principal";
    static final String GROUPS = "groups";
    static final String EMAIL = "email";
    static final String CREATED_AT = "created_at";
    static final String REVOKED = "revoked";

    private static final Comparator<ApiKeyRecord> OLDEST_FIRST =
            Comparator.comparing(ApiKeyRecord::createdAt).thenComparing(ApiKeyRecord::keyId);

    private final DynamoDbClient client;
    private final String table;

    public DynamoApiKeyStore(DynamoDbClient client, String table) {
        this.client = Objects.requireNonNull(client, "client");
        this.table = Objects.requireNonNull(table, "table");
    }

    @Override
    public Optional<ApiKeyRecord> findByHash(String sha256) {
        if (!ApiKeys.isSha256Hex(sha256)) {
            return Optional.empty();
        }
        var response = unchecked(() -> DynamoCalls.call("GetItem", () -> client.getItem(b -> b.tableName(table)
                .key(Map.of(PK, AttributeValue.fromS(KEY_PREFIX + sha256))).consistentRead(true))));
        return response.hasItem() && !response.item().isEmpty() ? Optional.of(fromItem(response.item()))
                : Optional.empty();
    }

    @Override
    public void put(ApiKeyRecord record) {
        Objects.requireNonNull(record, "record");
        for (ApiKeyRecord sameId : withKeyId(record.keyId())) {
            if (!sameId.sha256().equals(record.sha256())) {
                throw new IllegalStateException("key id " + record.keyId() + " already belongs to another key");
            }
        }
        Map<String, AttributeValue> item = toItem(record);
        try {
            // a new hash, or the same hash under the same key id (a replacement)
            unchecked(() -> DynamoCalls.call("PutItem", () -> client.putItem(b -> b.tableName(table).item(item)
                    .conditionExpression("attribute_not_exists(#pk) OR #kid = :kid")
                    .expressionAttributeNames(Map.of("#pk", PK, "#kid", KEY_ID))
                    .expressionAttributeValues(Map.of(":kid", AttributeValue.fromS(record.keyId()))))));
        } catch (ConditionalCheckFailedException e) {
            throw new IllegalStateException("this key is already stored under another key id");
        }
    }

    @Override
    public boolean revoke(String keyId) {
        Objects.requireNonNull(keyId, "keyId");
        boolean revoked = false;
        for (ApiKeyRecord r : withKeyId(keyId)) {
            try {
                unchecked(() -> DynamoCalls.call("UpdateItem", () -> client.updateItem(b -> b.tableName(table)
                        .key(Map.of(PK, AttributeValue.fromS(KEY_PREFIX + r.sha256())))
                        .updateExpression("SET #revoked = :true")
                        .conditionExpression("#kid = :kid")
                        .expressionAttributeNames(Map.of("#revoked", REVOKED, "#kid", KEY_ID))
                        .expressionAttributeValues(Map.of(":true", AttributeValue.fromBool(true),
                                ":kid", AttributeValue.fromS(keyId))))));
                revoked = true;
            } catch (ConditionalCheckFailedException goneMeanwhile) {
                // the index still showed an item that no longer holds this key id
            }
        }
        return revoked;
    }

    @Override
    public List<ApiKeyRecord> list() {
        List<ApiKeyRecord> all = query(null);
        all.sort(OLDEST_FIRST);
        return List.copyOf(all);
    }

    private List<ApiKeyRecord> withKeyId(String keyId) {
        return query(keyId);
    }

    /** Every key item, or those with {@code keyId}, from the keys partition of the index. */
    private List<ApiKeyRecord> query(String keyId) {
        Map<String, String> names = new HashMap<>(Map.of("#pk", GSI3_PK));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":pk", AttributeValue.fromS(KEYS_PARTITION)));
        String condition = "#pk = :pk";
        if (keyId != null) {
            names.put("#sk", GSI3_SK);
            values.put(":sk", AttributeValue.fromS(keyId));
            condition += " AND #sk = :sk";
        }
        List<ApiKeyRecord> out = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            QueryRequest.Builder b = QueryRequest.builder().tableName(table).indexName(BY_DAY)
                    .keyConditionExpression(condition).expressionAttributeNames(names)
                    .expressionAttributeValues(values);
            if (start != null) {
                b.exclusiveStartKey(start);
            }
            QueryRequest request = b.build();
            QueryResponse response = unchecked(() -> DynamoCalls.call("Query", () -> client.query(request)));
            response.items().forEach(item -> out.add(fromItem(item)));
            start = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty()
                    ? response.lastEvaluatedKey() : null;
        } while (start != null);
        return out;
    }

    static Map<String, AttributeValue> toItem(ApiKeyRecord r) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(PK, AttributeValue.fromS(KEY_PREFIX + r.sha256()));
        item.put(KEY_ID, AttributeValue.fromS(r.keyId()));
        item.put(PRINCIPAL, AttributeValue.fromS(r.principal()));
        item.put(GROUPS, AttributeValue.fromL(new TreeSet<>(r.groups()).stream().map(AttributeValue::fromS).toList()));
        if (r.email() != null) {
            item.put(EMAIL, AttributeValue.fromS(r.email()));
        }
        item.put(CREATED_AT, AttributeValue.fromS(PolicygateTable.timestamp(r.createdAt())));
        item.put(REVOKED, AttributeValue.fromBool(r.revoked()));
        item.put(GSI3_PK, AttributeValue.fromS(KEYS_PARTITION));
        item.put(GSI3_SK, AttributeValue.fromS(r.keyId()));
        return item;
    }

    static ApiKeyRecord fromItem(Map<String, AttributeValue> item) {
        AttributeValue pk = item.get(PK);
        try {
            AttributeValue groups = item.get(GROUPS);
            AttributeValue email = item.get(EMAIL);
            AttributeValue revoked = item.get(REVOKED);
            return new ApiKeyRecord(item.get(KEY_ID).s(), pk.s().substring(KEY_PREFIX.length()),
                    item.get(PRINCIPAL).s(),
                    groups == null || !groups.hasL() ? Set.of()
                            : new TreeSet<>(groups.l().stream().map(AttributeValue::s).toList()),
                    email == null ? null : email.s(), Instant.parse(item.get(CREATED_AT).s()),
                    revoked != null && Boolean.TRUE.equals(revoked.bool()));
        } catch (RuntimeException e) {
            throw new IllegalStateException("key item " + (pk == null ? "?" : pk.s()) + " is malformed: " + e, e);
        }
    }

    private interface Call<T> {
        T run() throws IOException;
    }

    private static <T> T unchecked(Call<T> call) {
        try {
            return call.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
