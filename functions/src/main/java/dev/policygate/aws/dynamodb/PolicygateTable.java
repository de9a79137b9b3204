package dev.policygate.aws.dynamodb;

import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.waiters.DynamoDbWaiter;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableRequest;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The single DynamoDB table of Policygate: session index, gateway key hashes, approval records
 * and the approver directory. The CDK stack creates the same table; {@link #create} exists for tests and
 * local development.
 *
 * <h2>Keys</h2>
 * Partition key {@value #PK} (S), no sort key. Billing on demand. Items:
 * <ul>
 *   <li>{@code SESSION#<id>}: one session index entry ({@link DynamoSessionIndex}). Attributes
 *       {@code id, principal, status, decision, route, model, http_status (N), policy_ids (L of S;
 *       a string set cannot be empty), started_at, ended_at} and {@value #TTL_ATTRIBUTE} (N, epoch
 *       seconds: started_at + retention). Absent values are omitted, never stored as null.</li>
 *   <li>{@code KEY#<sha256>}: one gateway key record ({@link DynamoApiKeyStore}). Attributes
 *       {@code key_id, principal, groups (L of S), email, created_at, revoked (BOOL)}.</li>
 *   <li>{@code APPROVAL#<id>}: one approval record ({@link DynamoApprovalStore}): {@code state},
 *       the record as JSON (with the workflow's task token), TTL.</li>
 *   <li>{@code APPROVAL_SESSION#<session id>}: {@code approval_id}, the session's approval (at most one).</li>
 *   <li>{@code HELD#<session id>}: the forward claim of an approved request
 *       ({@code dev.policygate.aws.s3.S3HeldRequestStore}), so that Claude is called once.</li>
 *   <li>{@code APPROVER_GROUP#<group>}: {@code members} (SS of emails), and {@code APPROVER#<email>}:
 *       {@code groups} (SS): the approver directory ({@link DynamoApproverDirectory}).</li>
 * </ul>
 * Timestamps are ISO-8601 UTC with a fixed nine-digit fraction ({@link #timestamp}), so that
 * their lexical order is their time order; {@link Instant#toString()} drops trailing zero
 * digits and would not sort.
 *
 * <h2>Global secondary indexes (all projections ALL, all keys S)</h2>
 * <table>
 *   <caption>Indexes</caption>
 *   <tr><th>index</th><th>partition key</th><th>sort key</th><th>items</th></tr>
 *   <tr><td>{@value #BY_PRINCIPAL}</td><td>{@value #GSI1_PK} = {@code "P#" + principal}</td>
 *       <td>{@value #GSI1_SK} = {@code started_at + "#" + id}</td>
 *       <td>sessions that have a principal</td></tr>
 *   <tr><td>{@value #BY_STATUS}</td><td>{@value #GSI2_PK} = {@code "S#" + status}</td>
 *       <td>{@value #GSI2_SK}, same value</td><td>sessions</td></tr>
 *   <tr><td>{@value #BY_DAY}</td><td>{@value #GSI3_PK} = {@code "D#" + yyyy-mm-dd} (UTC day of
 *       started_at)</td><td>{@value #GSI3_SK}, same value</td><td>sessions</td></tr>
 *   <tr><td>{@value #BY_DAY} (overloaded)</td><td>{@value #GSI3_PK} = {@value #KEYS_PARTITION}</td>
 *       <td>{@value #GSI3_SK} = key_id</td><td>gateway keys, so that revoking and listing keys
 *       never scan the sessions</td></tr>
 * </table>
 *
 * <h2>Time to live</h2>
 * The TTL attribute is {@value #TTL_ATTRIBUTE}; the CDK stack enables it. {@link #create} does
 * not, because dynalite does not implement {@code UpdateTimeToLive}.
 */
public final class PolicygateTable {
    public static final String PK = "pk";

    public static final String SESSION_PREFIX = "SESSION#";
    public static final String KEY_PREFIX = "KEY#";
    public static final String APPROVAL_PREFIX = "APPROVAL#";
    public static final String APPROVAL_SESSION_PREFIX = "APPROVAL_SESSION#";
    public static final String HELD_PREFIX = "HELD#";
    public static final String APPROVER_GROUP_PREFIX = "APPROVER_GROUP#";
    public static final String APPROVER_PREFIX = "APPROVER#";

    public static final String BY_PRINCIPAL = "by-principal";
    public static final String BY_STATUS = "by-status";
    public static final String BY_DAY = "by-day";

    public static final String GSI1_PK = "gsi1pk";
    public static final String GSI1_SK = "gsi1sk";
    public static final String GSI2_PK = "gsi2pk";
    public static final String GSI2_SK = "gsi2sk";
    public static final String GSI3_PK = "gsi3pk";
    public static final String GSI3_SK = "gsi3sk";

    public static final String PRINCIPAL_PARTITION_PREFIX = "P#";
    public static final String STATUS_PARTITION_PREFIX = "S#";
    public static final String DAY_PARTITION_PREFIX = "D#";
    /** The {@value #BY_DAY} partition that holds every gateway key, sorted by key id. */
    public static final String KEYS_PARTITION = "KEYS";

    /** Epoch seconds after which DynamoDB may delete the item. */
    public static final String TTL_ATTRIBUTE = "expires_at";

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);

    private PolicygateTable() {
    }

    /**
     * Creates the table on demand (PAY_PER_REQUEST) with its three indexes and waits until it is
     * active. For tests and local development; production tables come from the CDK stack.
     */
    public static void create(DynamoDbClient client, String tableName) {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(tableName, "tableName");
        List<AttributeDefinition> attributes = new ArrayList<>();
        for (String name : List.of(PK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, GSI3_PK, GSI3_SK)) {
            attributes.add(AttributeDefinition.builder().attributeName(name).attributeType(ScalarAttributeType.S)
                    .build());
        }
        client.createTable(b -> b.tableName(tableName)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(attributes)
                .keySchema(key(PK, KeyType.HASH))
                .globalSecondaryIndexes(index(BY_PRINCIPAL, GSI1_PK, GSI1_SK), index(BY_STATUS, GSI2_PK, GSI2_SK),
                        index(BY_DAY, GSI3_PK, GSI3_SK)));
        // The default waiter sleeps 20 s between polls; a new table is usually active in far less.
        WaiterOverrideConfiguration polling = WaiterOverrideConfiguration.builder()
                .backoffStrategyV2(BackoffStrategy.exponentialDelay(Duration.ofMillis(50), Duration.ofSeconds(5)))
                .maxAttempts(200).waitTimeout(Duration.ofMinutes(5)).build();
        try (DynamoDbWaiter waiter = client.waiter()) {
            waiter.waitUntilTableExists(DescribeTableRequest.builder().tableName(tableName).build(), polling)
                    .matched().exception().ifPresent(e -> {
                        throw new IllegalStateException("table " + tableName + " did not become active", e);
                    });
        }
    }

    /** Fixed-width ISO-8601 UTC, nanosecond precision: lexical order is time order. */
    static String timestamp(Instant t) {
        return TIMESTAMP.format(t);
    }

    /** The {@value #BY_DAY} partition of the UTC day of {@code t}. */
    static String dayPartition(Instant t) {
        return DAY_PARTITION_PREFIX + DAY.format(t);
    }

    /** The sort key of a session in every index: started_at, then id to break ties. */
    static String sessionSortKey(Instant startedAt, String id) {
        return timestamp(startedAt) + "#" + id;
    }

    private static KeySchemaElement key(String name, KeyType type) {
        return KeySchemaElement.builder().attributeName(name).keyType(type).build();
    }

    private static GlobalSecondaryIndex index(String name, String pk, String sk) {
        return GlobalSecondaryIndex.builder().indexName(name)
                .keySchema(key(pk, KeyType.HASH), key(sk, KeyType.RANGE))
                .projection(Projection.builder().projectionType(ProjectionType.ALL).build())
                .build();
    }
}
