package dev.policygate.aws.dynamodb;

import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionIndex;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

import static dev.policygate.aws.dynamodb.PolicygateTable.BY_DAY;
import static dev.policygate.aws.dynamodb.PolicygateTable.BY_PRINCIPAL;
import static dev.policygate.aws.dynamodb.PolicygateTable.BY_STATUS;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI1_PK;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI1_SK;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI2_PK;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI2_SK;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI3_PK;
import static dev.policygate.aws.dynamodb.PolicygateTable.GSI3_SK;
import static dev.policygate.aws.dynamodb.PolicygateTable.PK;
import static dev.policygate.aws.dynamodb.PolicygateTable.SESSION_PREFIX;
import static dev.policygate.aws.dynamodb.PolicygateTable.TTL_ATTRIBUTE;

/**
 * The session index in the {@link PolicygateTable}: one {@code SESSION#<id>} item per session.
 *
 * <p>{@link #begin} is a conditional put (write-ahead: an existing id is never overwritten); when
 * a retried put collides with the identical item its own lost attempt wrote, that counts as
 * success. {@link #update} replaces the entry, {@link #get} is a consistent read. {@link #list} queries
 * {@value PolicygateTable#BY_PRINCIPAL} when a principal is given, else
 * {@value PolicygateTable#BY_STATUS} when a status is given, else walks
 * {@value PolicygateTable#BY_DAY} one UTC day at a time from {@code to} (or now) back to
 * {@code from}, or at most {@value #DEFAULT_DAYS_BACK} days back. Results are ordered by
 * started_at, then id, newest first; {@code from} is inclusive and {@code to} exclusive. The
 * remaining filters run as a FilterExpression, the {@code visible} predicate in memory.
 *
 * <p>Limits: index reads are eventually consistent, so a session begun a moment ago may be
 * missing from a listing (never from {@link #get}). One call reads at most
 * {@value #MAX_ITEMS_READ_PER_LIST} items in at most {@value #MAX_QUERIES_PER_LIST} queries; when
 * that budget runs out the page may be short, and its cursor resumes where the reading stopped.
 * A cursor is a plain session id; an id that is no longer stored (expired) still works, through
 * the time in its first ten characters. Items expire {@code retention} after they started
 * (attribute {@value PolicygateTable#TTL_ATTRIBUTE}).
 *
 * <p>Failures: the client's standard retry strategy retries throttling and 5xx with backoff and
 * jitter; what it gives up on surfaces as an {@link IOException}. Thread-safe.
 */
public final class DynamoSessionIndex implements SessionIndex {
    static final int DEFAULT_DAYS_BACK = 31;
    static final int MAX_ITEMS_READ_PER_LIST = 1000;
    static final int MAX_QUERIES_PER_LIST = 64;
    private static final int MIN_QUERY_PAGE = 50;

    static final String ID = "id";
    static final String PRINCIPAL = "principal";
    static final String STATUS = "status";
    static final String DECISION = "decision";
    static final String ROUTE = "route";
    static final String MODEL = "model";
    static final String HTTP_STATUS = "http_status";
    static final String POLICY_IDS = "policy_ids";
    static final String STARTED_AT = "started_at";
    static final String ENDED_AT = "ended_at";

    private static final String CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private final DynamoDbClient client;
    private final String table;
    private final Duration retention;
    private final Clock clock;

    public DynamoSessionIndex(DynamoDbClient client, String table, Duration retention) {
        this(client, table, retention, Clock.systemUTC());
    }

    /** {@code clock} decides "now" for listings without {@code to}. */
    public DynamoSessionIndex(DynamoDbClient client, String table, Duration retention, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.table = Objects.requireNonNull(table, "table");
        this.retention = Objects.requireNonNull(retention, "retention");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("retention must be positive");
        }
    }

    @Override
    public void begin(SessionSummary inFlight) throws IOException {
        Map<String, AttributeValue> item = toItem(inFlight);
        try {
            DynamoCalls.call("PutItem", () -> client.putItem(b -> b.tableName(table).item(item)
                    .conditionExpression("attribute_not_exists(#pk)")
                    .expressionAttributeNames(Map.of("#pk", PK))));
        } catch (ConditionalCheckFailedException e) {
            // A retry whose earlier attempt landed (its reply was lost) collides with its own item.
            boolean retried = e.numAttempts() != null && e.numAttempts() > 1;
            if (retried && get(inFlight.id()).filter(inFlight::equals).isPresent()) {
                return;
            }
            throw new IllegalStateException("session id already exists: " + inFlight.id());
        }
    }

    @Override
    public void update(SessionSummary summary) throws IOException {
        Map<String, AttributeValue> item = toItem(summary);
        DynamoCalls.call("PutItem", () -> client.putItem(b -> b.tableName(table).item(item)));
    }

    @Override
    public Optional<SessionSummary> get(String id) throws IOException {
        Objects.requireNonNull(id, "id");
        var response = DynamoCalls.call("GetItem", () -> client.getItem(b -> b.tableName(table)
                .key(Map.of(PK, s(SESSION_PREFIX + id))).consistentRead(true)));
        return response.hasItem() && !response.item().isEmpty() ? Optional.of(fromItem(response.item()))
                : Optional.empty();
    }

    @Override
    public SessionPage list(SessionQuery query, Predicate<SessionSummary> visible) throws IOException {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(visible, "visible");
        Cursor cursor = query.after() == null ? null : cursor(query.after());
        String lower = query.from() == null ? null : PolicygateTable.timestamp(query.from());
        String upper = min(query.to() == null ? null : PolicygateTable.timestamp(query.to()),
                cursor == null ? null : cursor.sortKey());
        if (lower != null && upper != null && lower.compareTo(upper) >= 0) {
            return new SessionPage(List.of(), null);
        }
        Listing listing = new Listing(query, visible, lower, upper);
        if (query.principal() != null) {
            return listing.single(new Partition(BY_PRINCIPAL, GSI1_PK, GSI1_SK,
                    PolicygateTable.PRINCIPAL_PARTITION_PREFIX + query.principal()));
        }
        if (query.status() != null) {
            return listing.single(new Partition(BY_STATUS, GSI2_PK, GSI2_SK,
                    PolicygateTable.STATUS_PARTITION_PREFIX + query.status().name()));
        }
        Instant now = clock.instant();
        Instant newest = query.to() != null ? query.to().minusNanos(1) : now;
        if (cursor != null && cursor.startedAt().isBefore(newest)) {
            newest = cursor.startedAt();
        }
        Instant oldest = query.from() != null ? query.from()
                : (query.to() != null ? query.to() : now).minus(Duration.ofDays(DEFAULT_DAYS_BACK));
        return listing.days(day(newest), day(oldest));
    }

    /** One list call: reads partitions newest first until the page is full or the budget is spent. */
    private final class Listing {
        private final SessionQuery query;
        private final Predicate<SessionSummary> visible;
        private final String lower;
        private final String upper;
        private final List<SessionSummary> out = new ArrayList<>();
        private int queries;
        private int itemsRead;

        Listing(SessionQuery query, Predicate<SessionSummary> visible, String lower, String upper) {
            this.query = query;
            this.visible = visible;
            this.lower = lower;
            this.upper = upper;
        }

        SessionPage single(Partition partition) throws IOException {
            SessionPage full = read(partition);
            return full != null ? full : new SessionPage(List.copyOf(out), null);
        }

        SessionPage days(LocalDate newest, LocalDate oldest) throws IOException {
            for (LocalDate d = newest; !d.isBefore(oldest); d = d.minusDays(1)) {
                if (spent()) {
                    // Days after d are done and nothing of d was read: resume with everything older.
                    return new SessionPage(List.copyOf(out),
                            syntheticId(d.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC)));
                }
                SessionPage full = read(new Partition(BY_DAY, GSI3_PK, GSI3_SK,
                        PolicygateTable.DAY_PARTITION_PREFIX + d));
                if (full != null) {
                    return full;
                }
            }
            return new SessionPage(List.copyOf(out), null);
        }

        private boolean spent() {
            return queries >= MAX_QUERIES_PER_LIST || itemsRead >= MAX_ITEMS_READ_PER_LIST;
        }

        /** Reads one partition; returns the finished page when it filled up, else null. */
        private SessionPage read(Partition p) throws IOException {
            Map<String, AttributeValue> start = null;
            do {
                if (start != null && spent()) {
                    // stopped inside the partition: resume after the last item DynamoDB evaluated
                    return new SessionPage(List.copyOf(out), start.get(PK).s().substring(SESSION_PREFIX.length()));
                }
                QueryRequest request = request(p, start);
                QueryResponse response = DynamoCalls.call("Query", () -> client.query(request));
                queries++;
                itemsRead += response.scannedCount() == null ? response.count() : response.scannedCount();
                for (Map<String, AttributeValue> item : response.items()) {
                    if (upper != null && upper.equals(item.get(p.sortKey()).s())) {
                        continue; // BETWEEN includes its upper bound, which is the cursor itself
                    }
                    SessionSummary s = fromItem(item);
                    if (!visible.test(s)) {
                        continue;
                    }
                    if (out.size() == query.limit()) {
                        return new SessionPage(List.copyOf(out), out.get(out.size() - 1).id());
                    }
                    out.add(s);
                }
                start = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty()
                        ? response.lastEvaluatedKey() : null;
            } while (start != null);
            return null;
        }

        private QueryRequest request(Partition p, Map<String, AttributeValue> start) {
            Map<String, String> names = new HashMap<>();
            Map<String, AttributeValue> values = new HashMap<>();
            names.put("#pk", p.partitionKey());
            values.put(":pk", s(p.value()));
            String keyCondition = "#pk = :pk";
            if (lower != null || upper != null) {
                names.put("#sk", p.sortKey());
                if (lower != null && upper != null) {
                    keyCondition += " AND #sk BETWEEN :lo AND :hi";
                } else {
                    keyCondition += lower != null ? " AND #sk >= :lo" : " AND #sk < :hi";
                }
                if (lower != null) {
                    values.put(":lo", s(lower));
                }
                if (upper != null) {
                    values.put(":hi", s(upper));
                }
            }
            List<String> filters = new ArrayList<>();
            if (query.status() != null && !BY_STATUS.equals(p.index())) {
                // "status" is a reserved word: always go through a name placeholder
                names.put("#status", STATUS);
                values.put(":status", s(query.status().name()));
                filters.add("#status = :status");
            }
            if (query.decision() != null) {
                names.put("#decision", DECISION);
                values.put(":decision", s(query.decision()));
                filters.add("#decision = :decision");
            }
            int wanted = query.limit() + 1 - out.size();
            int pageSize = Math.min(MAX_ITEMS_READ_PER_LIST - itemsRead, Math.max(wanted, MIN_QUERY_PAGE));
            QueryRequest.Builder b = QueryRequest.builder().tableName(table).indexName(p.index())
                    .keyConditionExpression(keyCondition).expressionAttributeNames(names)
                    .expressionAttributeValues(values).scanIndexForward(false).limit(pageSize);
            if (!filters.isEmpty()) {
                b.filterExpression(String.join(" AND ", filters));
            }
            if (start != null) {
                b.exclusiveStartKey(start);
            }
            return b.build();
        }
    }

    /** One partition of one index. */
    private record Partition(String index, String partitionKey, String sortKey, String value) {
    }

    /** Where a cursor sits in the sort order of every index. */
    private record Cursor(Instant startedAt, String sortKey) {
    }

    private Cursor cursor(String after) throws IOException {
        Optional<SessionSummary> stored = get(after);
        if (stored.isPresent()) {
            Instant t = stored.get().startedAt();
            return new Cursor(t, PolicygateTable.sessionSortKey(t, after));
        }
        if (!SessionIds.isValid(after)) {
            throw new IllegalArgumentException("after: not a session id");
        }
        Instant t = Instant.ofEpochMilli(idMillis(after));
        return new Cursor(t, PolicygateTable.sessionSortKey(t, after));
    }

    /** The millisecond time in the first ten characters of a session id. */
    static long idMillis(String id) {
        long t = 0;
        for (int i = 0; i < 10; i++) {
            t = (t << 5) | CROCKFORD.indexOf(id.charAt(i));
        }
        return t;
    }

    /** The smallest session id of millisecond {@code t}: as a cursor, it means "older than t". */
    static String syntheticId(Instant t) {
        long ms = t.toEpochMilli();
        char[] out = new char[26];
        Arrays.fill(out, '0');
        for (int i = 9; i >= 0; i--) {
            out[i] = CROCKFORD.charAt((int) (ms & 31));
            ms >>>= 5;
        }
        return new String(out);
    }

    private static LocalDate day(Instant t) {
        return LocalDate.ofInstant(t, ZoneOffset.UTC);
    }

    private static String min(String a, String b) {
        if (a == null) {
            return b;
        }
        return b == null || a.compareTo(b) <= 0 ? a : b;
    }

    Map<String, AttributeValue> toItem(SessionSummary s) {
        Objects.requireNonNull(s, "summary");
        Objects.requireNonNull(s.id(), "id");
        Objects.requireNonNull(s.status(), "status");
        Objects.requireNonNull(s.startedAt(), "startedAt");
        String sortKey = PolicygateTable.sessionSortKey(s.startedAt(), s.id());
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(PK, s(SESSION_PREFIX + s.id()));
        item.put(ID, s(s.id()));
        putIfPresent(item, PRINCIPAL, s.principal());
        item.put(STATUS, s(s.status().name()));
        putIfPresent(item, DECISION, s.decision());
        putIfPresent(item, ROUTE, s.route());
        putIfPresent(item, MODEL, s.model());
        item.put(HTTP_STATUS, AttributeValue.fromN(Integer.toString(s.httpStatus())));
        item.put(POLICY_IDS, AttributeValue.fromL(s.policyIds().stream().map(DynamoSessionIndex::s).toList()));
        item.put(STARTED_AT, s(PolicygateTable.timestamp(s.startedAt())));
        if (s.endedAt() != null) {
            item.put(ENDED_AT, s(PolicygateTable.timestamp(s.endedAt())));
        }
        long expiresAt = s.startedAt().getEpochSecond() + retention.toSeconds();
        item.put(TTL_ATTRIBUTE, AttributeValue.fromN(Long.toString(expiresAt)));
        if (s.principal() != null) {
            item.put(GSI1_PK, s(PolicygateTable.PRINCIPAL_PARTITION_PREFIX + s.principal()));
            item.put(GSI1_SK, s(sortKey));
        }
        item.put(GSI2_PK, s(PolicygateTable.STATUS_PARTITION_PREFIX + s.status().name()));
        item.put(GSI2_SK, s(sortKey));
        item.put(GSI3_PK, s(PolicygateTable.dayPartition(s.startedAt())));
        item.put(GSI3_SK, s(sortKey));
        return item;
    }

    static SessionSummary fromItem(Map<String, AttributeValue> item) throws IOException {
        try {
            AttributeValue policies = item.get(POLICY_IDS);
            List<String> policyIds = policies == null || !policies.hasL() ? List.of()
                    : policies.l().stream().map(AttributeValue::s).toList();
            AttributeValue http = item.get(HTTP_STATUS);
            String endedAt = text(item, ENDED_AT);
            return new SessionSummary(Objects.requireNonNull(text(item, ID), ID), text(item, PRINCIPAL),
                    SessionStatus.valueOf(text(item, STATUS)), text(item, DECISION), text(item, ROUTE),
                    text(item, MODEL), http == null ? 0 : Integer.parseInt(http.n()), policyIds,
                    Instant.parse(text(item, STARTED_AT)), endedAt == null ? null : Instant.parse(endedAt));
        } catch (RuntimeException e) {
            AttributeValue pk = item.get(PK);
            throw new IOException("session item " + (pk == null ? "?" : pk.s()) + " is malformed: " + e, e);
        }
    }

    private static String text(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item.get(name);
        return v == null ? null : v.s();
    }

    private static void putIfPresent(Map<String, AttributeValue> item, String name, String value) {
        if (value != null) {
            item.put(name, s(value));
        }
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }
}
