package dev.policygate.aws.dynamodb;

import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DynamoSessionIndexTest extends DynaliteTest {
    static final Duration RETENTION = Duration.ofDays(90);
    /** The first seeded session starts here; "now" is three days later. */
    static final Instant T0 = Instant.parse("2026-11-20T09:00:00.123456789Z");
    static final Instant NOW = T0.plus(Duration.ofDays(3));


    String table;
    DynamoSessionIndex index;

    @BeforeEach
    void freshTable() {
        table = DynamoTestTables.newTable(client);
        index = new DynamoSessionIndex(client, table, RETENTION, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** A session whose id carries its start time, as the gateway's ids do. */
    static SessionSummary session(Instant startedAt, String principal, SessionStatus status, String decision) {
        String id = new SessionIds(Clock.fixed(startedAt, ZoneOffset.UTC)).next();
        return new SessionSummary(id, principal, status, decision, "POST /v1/messages", "claude-sonnet-4-5",
                status.terminal() ? 200 : 0, status.terminal() ? List.of("allow-dev") : List.of(), startedAt,
                status.terminal() ? startedAt.plusSeconds(2) : null);
    }

    /** Begins {@code n} sessions, {@code step} apart from T0 on, each shaped by {@code shape}. */
    List<SessionSummary> seed(int n, Duration step, IntFunction<SessionSummary> shape) throws IOException {
        List<SessionSummary> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SessionSummary s = shape.apply(i);
            index.begin(s);
            all.add(s);
        }
        return all;
    }

    static Instant at(int i, Duration step) {
        return T0.plus(step.multipliedBy(i));
    }

    /** Follows the cursors to the end; returns the pages. */
    List<SessionPage> allPages(SessionQuery first, Predicate<SessionSummary> visible) throws IOException {
        List<SessionPage> pages = new ArrayList<>();
        SessionQuery q = first;
        while (true) {
            SessionPage page = index.list(q, visible);
            pages.add(page);
            if (page.nextCursor() == null || pages.size() > 100) {
                return pages;
            }
            q = new SessionQuery(q.principal(), q.status(), q.decision(), q.from(), q.to(), q.limit(),
                    page.nextCursor());
        }
    }

    static List<String> ids(List<SessionPage> pages) {
        return pages.stream().flatMap(p -> p.sessions().stream()).map(SessionSummary::id).toList();
    }

    static List<String> newestFirst(List<SessionSummary> sessions, Predicate<SessionSummary> which) {
        return sessions.stream().filter(which).sorted(Comparator.comparing(SessionSummary::startedAt).reversed())
                .map(SessionSummary::id).toList();
    }

    @Test
    void begin_thenUpdate_getReturnsTheFinalEntry() throws IOException {
        // GIVEN a write-ahead entry
        SessionSummary inFlight = session(T0, "alice", SessionStatus.IN_FLIGHT, "ALLOW");
        index.begin(inFlight);
        assertThat(index.get(inFlight.id())).contains(inFlight);

        // WHEN the session completes
        SessionSummary done = new SessionSummary(inFlight.id(), "alice", SessionStatus.COMPLETED, "ALLOW",
                inFlight.route(), inFlight.model(), 200, List.of("allow-dev", "mask-pii"), inFlight.startedAt(),
                T0.plusMillis(1500));
        index.update(done);

        // THEN the final entry replaced the IN_FLIGHT one, every field intact
        assertThat(index.get(inFlight.id())).contains(done);
    }

    @Test
    void get_returnsEmpty_forAnUnknownId() throws IOException {
        assertThat(index.get(new SessionIds(Clock.systemUTC()).next())).isEmpty();
    }

    @Test
    void begin_throwsIllegalState_whenTheIdAlreadyExists_andKeepsTheFirstEntry() throws IOException {
        // GIVEN an entry
        SessionSummary first = session(T0, "alice", SessionStatus.IN_FLIGHT, "ALLOW");
        index.begin(first);
        SessionSummary collision = new SessionSummary(first.id(), "mallory", SessionStatus.IN_FLIGHT, "ALLOW",
                null, null, 0, List.of(), T0, null);

        // WHEN another write-ahead uses the same id, THEN it is refused
        assertThatThrownBy(() -> index.begin(collision)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("session id already exists");
        assertThatThrownBy(() -> index.begin(first)).isInstanceOf(IllegalStateException.class);
        assertThat(index.get(first.id())).contains(first);
    }

    @Test
    void entry_carriesExpiresAt_equalToStartedAtPlusRetention() throws IOException {
        // GIVEN a session
        SessionSummary s = session(T0, "alice", SessionStatus.IN_FLIGHT, "ALLOW");

        // WHEN it is written
        index.begin(s);

        // THEN the TTL attribute holds started_at + retention in epoch seconds. dynalite has no
        // UpdateTimeToLive and never expires items, so the attribute is all that can be checked.
        Map<String, AttributeValue> item = client.getItem(b -> b.tableName(table)
                .key(Map.of(PolicygateTable.PK, AttributeValue.fromS(PolicygateTable.SESSION_PREFIX + s.id())))).item();
        assertThat(item.get(PolicygateTable.TTL_ATTRIBUTE).n())
                .isEqualTo(Long.toString(T0.plus(RETENTION).getEpochSecond()));
        assertThat(item.get("policy_ids").l()).isEmpty();
    }

    @Test
    void list_byPrincipal_returnsOnlyTheirSessions_newestFirst_acrossPages() throws IOException {
        // GIVEN 25 sessions a minute apart, alternating between two principals
        Duration step = Duration.ofMinutes(1);
        List<SessionSummary> all = seed(25, step,
                i -> session(at(i, step), i % 2 == 0 ? "alice" : "bob", SessionStatus.COMPLETED, "ALLOW"));

        // WHEN alice's sessions are listed five at a time
        List<SessionPage> pages = allPages(new SessionQuery("alice", null, null, null, null, 5, null), s -> true);

        // THEN 13 sessions arrive in pages of 5, 5, 3, newest first, and the last page has no cursor
        assertThat(pages).extracting(p -> p.sessions().size()).containsExactly(5, 5, 3);
        assertThat(ids(pages)).isEqualTo(newestFirst(all, s -> s.principal().equals("alice")));
        assertThat(pages.get(2).nextCursor()).isNull();
    }

    @Test
    void list_byStatus_returnsOnlyThatStatus_newestFirst_acrossPages() throws IOException {
        // GIVEN 25 sessions cycling through three statuses
        Duration step = Duration.ofMinutes(7);
        SessionStatus[] cycle = {SessionStatus.COMPLETED, SessionStatus.DENIED, SessionStatus.IN_FLIGHT};
        List<SessionSummary> all = seed(25, step,
                i -> session(at(i, step), "p" + (i % 4), cycle[i % 3], cycle[i % 3] == SessionStatus.DENIED ? "DENY"
                        : "ALLOW"));

        // WHEN the denied ones are listed three at a time
        List<SessionPage> pages = allPages(new SessionQuery(null, SessionStatus.DENIED, null, null, null, 3, null),
                s -> true);

        // THEN exactly the 8 denied sessions arrive, newest first
        assertThat(ids(pages)).isEqualTo(newestFirst(all, s -> s.status() == SessionStatus.DENIED)).hasSize(8);
        assertThat(pages).extracting(p -> p.sessions().size()).containsExactly(3, 3, 2);
    }

    @Test
    void list_byDay_honoursFromInclusiveAndToExclusive_andPagesAcrossDays() throws IOException {
        // GIVEN 25 sessions five hours apart: they span six UTC days
        Duration step = Duration.ofHours(5);
        List<SessionSummary> all = seed(25, step,
                i -> session(at(i, step), "p" + (i % 3), SessionStatus.COMPLETED, "ALLOW"));
        Instant from = at(2, step);
        Instant to = at(20, step);

        // WHEN listing without principal or status, four at a time, from session 2 up to session 20
        List<SessionPage> pages = allPages(new SessionQuery(null, null, null, from, to, 4, null), s -> true);

        // THEN sessions 2..19 arrive newest first: "from" is inclusive, "to" exclusive
        List<String> expected = newestFirst(all, s -> !s.startedAt().isBefore(from) && s.startedAt().isBefore(to));
        assertThat(expected).hasSize(18);
        assertThat(ids(pages)).isEqualTo(expected);
        assertThat(pages).extracting(p -> p.sessions().size()).containsExactly(4, 4, 4, 4, 2);
    }

    @Test
    void list_withoutPrincipalStatusOrTimes_looksBackAtMost31DaysFromNow() throws IOException {
        // GIVEN sessions one, thirty and forty days before now
        SessionSummary recent = session(NOW.minus(Duration.ofDays(1)), "alice", SessionStatus.COMPLETED, "ALLOW");
        SessionSummary month = session(NOW.minus(Duration.ofDays(30)), "alice", SessionStatus.COMPLETED, "ALLOW");
        SessionSummary old = session(NOW.minus(Duration.ofDays(40)), "alice", SessionStatus.COMPLETED, "ALLOW");
        for (SessionSummary s : List.of(recent, month, old)) {
            index.begin(s);
        }

        // WHEN listing with no filters at all
        List<SessionPage> pages = allPages(new SessionQuery(null, null, null, null, null, 50, null), s -> true);

        // THEN the walk over days stops 31 days back; a principal listing has no such window
        assertThat(ids(pages)).containsExactly(recent.id(), month.id());
        assertThat(index.list(new SessionQuery("alice", null, null, null, null, 50, null), s -> true).sessions())
                .extracting(SessionSummary::id).containsExactly(recent.id(), month.id(), old.id());
    }

    @Test
    void list_filtersByDecision_onEveryIndex() throws IOException {
        // GIVEN 24 sessions, every third one denied
        Duration step = Duration.ofMinutes(30);
        List<SessionSummary> all = seed(24, step, i -> session(at(i, step), i % 2 == 0 ? "alice" : "bob",
                i % 3 == 0 ? SessionStatus.DENIED : SessionStatus.COMPLETED, i % 3 == 0 ? "DENY" : "ALLOW"));

        // WHEN listing by decision through each index
        List<String> byDay = ids(allPages(new SessionQuery(null, null, "DENY", null, null, 3, null), s -> true));
        List<String> byPrincipal = ids(allPages(new SessionQuery("alice", null, "DENY", null, null, 3, null),
                s -> true));
        List<String> byStatus = ids(allPages(new SessionQuery(null, SessionStatus.COMPLETED, "DENY", null, null, 3,
                null), s -> true));

        // THEN only the matching decisions come back
        assertThat(byDay).isEqualTo(newestFirst(all, s -> s.decision().equals("DENY"))).hasSize(8);
        assertThat(byPrincipal).isEqualTo(newestFirst(all, s -> s.decision().equals("DENY")
                && s.principal().equals("alice"))).hasSize(4);
        assertThat(byStatus).isEmpty();
    }

    @Test
    void list_byPrincipalAndStatus_filtersOnTheReservedWordStatus() throws IOException {
        // GIVEN alice's sessions in two statuses ("status" is a DynamoDB reserved word)
        Duration step = Duration.ofMinutes(3);
        List<SessionSummary> all = seed(10, step, i -> session(at(i, step), "alice",
                i % 2 == 0 ? SessionStatus.FAILED : SessionStatus.COMPLETED, "ALLOW"));

        // WHEN listing alice's failed sessions
        List<String> failed = ids(allPages(new SessionQuery("alice", SessionStatus.FAILED, null, null, null, 2, null),
                s -> true));

        // THEN the filter expression worked
        assertThat(failed).isEqualTo(newestFirst(all, s -> s.status() == SessionStatus.FAILED)).hasSize(5);
    }

    @Test
    void list_appliesTheVisibilityPredicate_beforeTheLimit() throws IOException {
        // GIVEN 25 sessions, of which alice may see only her own
        Duration step = Duration.ofMinutes(10);
        List<SessionSummary> all = seed(25, step,
                i -> session(at(i, step), i % 5 == 0 ? "alice" : "bob", SessionStatus.COMPLETED, "ALLOW"));
        Predicate<SessionSummary> alicesOwn = s -> s.principal().equals("alice");

        // WHEN alice lists everything, two per page
        List<SessionPage> pages = allPages(new SessionQuery(null, null, null, null, null, 2, null), alicesOwn);

        // THEN pages are full of visible sessions only, and nothing she may see is skipped
        assertThat(ids(pages)).isEqualTo(newestFirst(all, alicesOwn)).hasSize(5);
        assertThat(pages).extracting(p -> p.sessions().size()).containsExactly(2, 2, 1);
    }

    @Test
    void list_acceptsTheCursorOfAnExpiredSession_byTheTimeInItsId() throws IOException {
        // GIVEN five sessions, and a cursor whose session has since expired
        Duration step = Duration.ofMinutes(1);
        List<SessionSummary> all = seed(5, step, i -> session(at(i, step), "alice", SessionStatus.COMPLETED, "ALLOW"));
        String cursor = all.get(3).id();
        client.deleteItem(b -> b.tableName(table)
                .key(Map.of(PolicygateTable.PK, AttributeValue.fromS(PolicygateTable.SESSION_PREFIX + cursor))));

        // WHEN listing after that cursor
        SessionPage page = index.list(new SessionQuery("alice", null, null, null, null, 10, cursor), s -> true);

        // THEN the sessions older than it arrive
        assertThat(page.sessions()).extracting(SessionSummary::id)
                .containsExactly(all.get(2).id(), all.get(1).id(), all.get(0).id());
    }

    @Test
    void list_overAWideRangeOfEmptyDays_returnsAResumableCursor_andMissesNothing() throws IOException {
        // GIVEN two sessions 150 days apart, and a range of 200 days: more days than one call queries
        SessionSummary recent = session(T0, "alice", SessionStatus.COMPLETED, "ALLOW");
        SessionSummary old = session(T0.minus(Duration.ofDays(150)), "alice", SessionStatus.COMPLETED, "ALLOW");
        index.begin(recent);
        index.begin(old);

        // WHEN listing the range page after page
        List<SessionPage> pages = allPages(new SessionQuery(null, null, null, T0.minus(Duration.ofDays(200)),
                T0.plus(Duration.ofDays(1)), 10, null), s -> true);

        // THEN the query budget split the walk into several calls, and both sessions arrived
        assertThat(pages.size()).isGreaterThan(1);
        assertThat(ids(pages)).containsExactly(recent.id(), old.id());
        assertThat(pages.get(pages.size() - 1).nextCursor()).isNull();
    }

    @Test
    void list_returnsNothing_whenFromIsNotBeforeTo() throws IOException {
        index.begin(session(T0, "alice", SessionStatus.COMPLETED, "ALLOW"));
        SessionPage page = index.list(new SessionQuery("alice", null, null, T0.plusSeconds(1), T0, 10, null),
                s -> true);
        assertThat(page.sessions()).isEmpty();
        assertThat(page.nextCursor()).isNull();
    }

    @Test
    void list_keepsSessionsWithoutAPrincipal_outOfThePrincipalIndex_butInTheOthers() throws IOException {
        // GIVEN an unauthenticated session, which has no principal
        SessionSummary anonymous = session(T0, null, SessionStatus.UNAUTHENTICATED, null);
        index.begin(anonymous);

        // THEN day and status listings find it
        assertThat(index.list(new SessionQuery(null, SessionStatus.UNAUTHENTICATED, null, null, null, 10, null),
                s -> true).sessions()).containsExactly(anonymous);
        assertThat(index.list(new SessionQuery(null, null, null, null, null, 10, null), s -> true).sessions())
                .containsExactly(anonymous);
    }
}
