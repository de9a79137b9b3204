package dev.policygate.local;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The memory bound: only the newest sessions stay in memory; older ones are read from their index
 * line, and the store answers exactly as one that keeps everything.
 */
class FileSessionStoreResidentLimitTest {
    private static final int LIMIT = 100;
    /** 110 % of the limit: the most a single writer can leave resident. */
    private static final int HARD_LIMIT = LIMIT + LIMIT / 10;
    /** Ten minutes before midnight: the sessions span two UTC days, so two day files. */
    private static final Instant T0 = Instant.parse("2026-11-25T23:50:00Z");
    @TempDir
    Path dir;
    /**
     * Ids in creation order. The tests rely on "older" meaning "created first"; ids drawn in the same
     * millisecond order by their random part, so the clock steps one millisecond per id.
     */
    final SessionIds ids = new SessionIds(new SteppingClock(Instant.now().toEpochMilli()));

    /** A clock that moves one millisecond on every reading (thread-safe: the concurrency test shares it). */
    private static final class SteppingClock extends Clock {
        private final AtomicLong millis;

        SteppingClock(long startMillis) {
            this.millis = new AtomicLong(startMillis);
        }

        @Override
        public long millis() {
            return millis.getAndIncrement();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** One write: a begin (no recording) or a complete. */
    private record Op(SessionSummary summary, ObjectNode recording) {
        void applyTo(FileSessionStore store) throws IOException {
            if (recording == null) {
                store.begin(summary);
            } else {
                store.complete(summary, recording);
            }
        }
    }

    /** The writes, in order, and what each session must read back as (recording null: begun only). */
    private record Plan(List<Op> ops, Map<String, Op> last) {
        List<String> idsNewestFirst() {
            List<String> out = new ArrayList<>(last.keySet());
            out.sort(Comparator.reverseOrder());
            return out;
        }

        void applyTo(FileSessionStore store) throws IOException {
            for (Op op : ops) {
                op.applyTo(store);
            }
        }
    }

    private static SessionSummary summary(String id, int i, SessionStatus status) {
        boolean denied = status == SessionStatus.DENIED;
        // in id order one second apart, except every 13th, which started earlier than its neighbours
        Instant startedAt = T0.plusSeconds(i).minusSeconds(i % 13 == 0 ? 30 : 0);
        return new SessionSummary(id, List.of("dev", "ops", "audit").get(i % 3), status, denied ? "DENY" : "ALLOW",
                "POST /v1/messages", "claude-x", denied ? 403 : 200, List.of("p" + i % 4), startedAt,
                status.terminal() ? startedAt.plusSeconds(1) : null);
    }

    private static ObjectNode recordingOf(String id, SessionStatus status, int i) {
        ObjectNode r = Json.mapper().createObjectNode().put("session_id", id).put("status", status.name());
        r.putObject("request").put("text", "session " + i + " " + "x".repeat(i % 29));
        return r;
    }

    /**
     * {@code count} sessions. Every 7th is only begun; every 17th is held (PENDING_APPROVAL) and
     * finished later; the others are completed, DENIED every 5th, FAILED every 11th. Each complete
     * comes 150 writes after its begin (so, with a limit of 100, after the session was evicted), and
     * the sessions are begun in blocks of 100 out of id order, as after the clock was set back.
     */
    private Plan plan(int count) {
        List<String> sorted = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sorted.add(ids.next());
        }
        Collections.sort(sorted);
        List<Integer> blocks = new ArrayList<>();
        for (int b = 0; b < (count + 99) / 100; b++) {
            blocks.add(b);
        }
        Collections.shuffle(blocks, new Random(42));
        List<Op> ops = new ArrayList<>();
        Map<String, Op> last = new HashMap<>();
        Queue<Op> completes = new ArrayDeque<>();
        Queue<Op> finals = new ArrayDeque<>();
        for (int b : blocks) {
            for (int i = b * 100; i < Math.min(count, b * 100 + 100); i++) {
                String id = sorted.get(i);
                Op begin = new Op(summary(id, i, SessionStatus.IN_FLIGHT), null);
                ops.add(begin);
                last.put(id, begin);
                if (i % 7 != 0) {
                    SessionStatus status = i % 17 == 0 ? SessionStatus.PENDING_APPROVAL
                            : i % 5 == 0 ? SessionStatus.DENIED : i % 11 == 0 ? SessionStatus.FAILED
                            : SessionStatus.COMPLETED;
                    completes.add(new Op(summary(id, i, status), recordingOf(id, status, i)));
                    if (status == SessionStatus.PENDING_APPROVAL) {
                        finals.add(new Op(summary(id, i, SessionStatus.COMPLETED),
                                recordingOf(id, SessionStatus.COMPLETED, i)));
                    }
                }
                if (completes.size() > 150) {
                    move(completes.remove(), ops, last);
                }
                if (finals.size() > 10) {
                    move(finals.remove(), ops, last);
                }
            }
        }
        completes.forEach(op -> move(op, ops, last));
        finals.forEach(op -> move(op, ops, last));
        return new Plan(ops, last);
    }

    private static void move(Op op, List<Op> ops, Map<String, Op> last) {
        ops.add(op);
        last.put(op.summary().id(), op);
    }

    private static void assertReadsBack(FileSessionStore store, Plan plan) throws IOException {
        for (Map.Entry<String, Op> e : plan.last().entrySet()) {
            assertThat(store.summary(e.getKey())).as(e.getKey()).contains(e.getValue().summary());
            if (e.getValue().recording() == null) {
                assertThat(store.recording(e.getKey())).as(e.getKey()).isEmpty();
            } else {
                assertThat(store.recording(e.getKey())).as(e.getKey()).contains(e.getValue().recording());
            }
        }
    }

    private static SessionQuery query(String principal, SessionStatus status, String decision, Instant from,
                                      Instant to, int limit, String after) {
        return new SessionQuery(principal, status, decision, from, to, limit, after);
    }

    /** Every page of a listing, following the next cursor from the query's own. */
    private static List<SessionPage> pages(FileSessionStore store, SessionQuery q, Predicate<SessionSummary> visible) {
        List<SessionPage> out = new ArrayList<>();
        SessionQuery at = q;
        while (true) {
            SessionPage page = store.list(at, visible);
            out.add(page);
            if (page.nextCursor() == null) {
                return out;
            }
            at = query(q.principal(), q.status(), q.decision(), q.from(), q.to(), q.limit(), page.nextCursor());
        }
    }

    @Test
    void summaryAndRecording_readEvictedSessionsFromDisk_whenOverTheResidentLimit() throws Exception {
        // GIVEN a store that keeps 100 sessions in memory
        Plan plan = plan(1_000);
        try (FileSessionStore store = FileSessionStore.open(dir, LIMIT)) {
            // WHEN 1,000 sessions are written, most completed after they were evicted
            for (Op op : plan.ops()) {
                op.applyTo(store);
                assertThat(store.residentCount()).isLessThanOrEqualTo(HARD_LIMIT);
            }

            // THEN every summary and recording reads back as last written
            assertReadsBack(store, plan);
            // AND at most 110 % of the limit is in memory, the rest in the directory at under 40 bytes each
            assertThat(store.residentCount()).isLessThanOrEqualTo(HARD_LIMIT);
            assertThat(store.evictedCount()).isGreaterThanOrEqualTo(1_000 - HARD_LIMIT);
            assertThat(store.directoryBytes()).isLessThanOrEqualTo(40L * store.evictedCount());
        }

        // AND the same after a restart
        try (FileSessionStore reopened = FileSessionStore.open(dir, LIMIT)) {
            assertThat(reopened.residentCount()).isLessThanOrEqualTo(LIMIT);
            assertThat(reopened.size()).isEqualTo(1_000);
            assertReadsBack(reopened, plan);
            assertThat(reopened.directoryBytes()).isLessThanOrEqualTo(40L * reopened.evictedCount());
        }
    }

    @Test
    void list_pagesExactlyAsAStoreWithoutALimit_forEveryFilterCursorAndVisibility() throws Exception {
        // GIVEN the same 1,000 sessions written to a store that keeps 100 in memory and to one that keeps all
        Plan plan = plan(1_000);
        FileSessionStore bounded = FileSessionStore.open(dir.resolve("bounded"), LIMIT);
        FileSessionStore unbounded = FileSessionStore.open(dir.resolve("unbounded"), Integer.MAX_VALUE);
        plan.applyTo(bounded);
        plan.applyTo(unbounded);
        assertThat(unbounded.evictedCount()).isZero();
        assertThat(bounded.evictedCount()).isGreaterThan(800);
        List<String> newestFirst = plan.idsNewestFirst();
        List<SessionQuery> queries = List.of(
                query(null, null, null, null, null, 200, null),
                query(null, null, null, null, null, 7, null),
                query("ops", null, null, null, null, 13, null),
                query(null, SessionStatus.COMPLETED, null, null, null, 50, null),
                query(null, SessionStatus.IN_FLIGHT, null, null, null, 9, null),
                query(null, null, "DENY", null, null, 25, null),
                query("dev", SessionStatus.DENIED, "DENY", null, null, 4, null),
                query(null, null, null, T0.plusSeconds(400), null, 30, null),
                query(null, null, null, null, T0.plusSeconds(700), 40, null),
                query(null, null, null, T0.plusSeconds(200), T0.plusSeconds(800), 11, null));
        List<String> afters = new ArrayList<>();
        afters.add(null);
        afters.add(newestFirst.get(500));
        afters.add(newestFirst.get(950));
        afters.add(newestFirst.get(500).substring(0, 12));
        afters.add(ids.next());
        afters.add("~");
        afters.add("0");
        List<Predicate<SessionSummary>> visibilities = List.of(s -> true, s -> !s.policyIds().contains("p2"));

        // WHEN every query is paged through from every cursor, with and without a visibility rule
        // THEN both stores give the same pages, before and after the bounded one restarts
        for (int round = 0; round < 2; round++) {
            for (SessionQuery q : queries) {
                for (String after : afters) {
                    for (Predicate<SessionSummary> visible : visibilities) {
                        SessionQuery from = query(q.principal(), q.status(), q.decision(), q.from(), q.to(), q.limit(),
                                after);
                        assertThat(pages(bounded, from, visible)).as("%s", from)
                                .isEqualTo(pages(unbounded, from, visible));
                    }
                }
            }
            bounded.close();
            bounded = FileSessionStore.open(dir.resolve("bounded"), LIMIT);
        }
        // AND one session a page walks all of them, newest first
        List<String> walked = new ArrayList<>();
        for (SessionPage page : pages(bounded, query(null, null, null, null, null, 1, null), s -> true)) {
            page.sessions().forEach(s -> walked.add(s.id()));
        }
        assertThat(walked).isEqualTo(newestFirst);
        bounded.close();
        unbounded.close();
    }

    @Test
    void list_resumesInTheDirectory_whenTheSessionsItWalksAreEvictedMidWalk() throws Exception {
        // GIVEN a store holding 100 sessions, all in memory
        try (FileSessionStore store = FileSessionStore.open(dir, LIMIT)) {
            List<String> listedFirst = new ArrayList<>();
            for (int i = 0; i < LIMIT; i++) {
                String id = ids.next();
                store.complete(summary(id, i, SessionStatus.COMPLETED), recordingOf(id, SessionStatus.COMPLETED, i));
                listedFirst.add(id);
            }
            listedFirst.sort(Comparator.reverseOrder());
            assertThat(store.evictedCount()).isZero();

            // WHEN, as the listing looks at its first session, 200 newer ones are written: the writer's own
            // eviction passes move every one of the first 100 out of memory behind the listing's back
            AtomicBoolean first = new AtomicBoolean(true);
            SessionPage page = store.list(query(null, null, null, null, null, 200, null), s -> {
                if (first.getAndSet(false)) {
                    try {
                        for (int i = 0; i < 200; i++) {
                            String id = ids.next();
                            store.begin(summary(id, i, SessionStatus.IN_FLIGHT));
                        }
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                    assertThat(listedFirst).noneMatch(store::isResident);
                }
                return true;
            });

            // THEN the page still holds all 100, newest first, once each (the newer ones came after it began)
            assertThat(ids(page)).isEqualTo(listedFirst);
            assertThat(page.nextCursor()).isNull();
        }
    }

    @Test
    void complete_pointsAnEvictedInFlightSessionAtItsLatestLine_andThatLineWinsAfterARestart() throws Exception {
        // GIVEN a session begun, then pushed out of memory by 300 newer ones
        String held = ids.next();
        try (FileSessionStore store = FileSessionStore.open(dir, LIMIT)) {
            store.begin(summary(held, 1, SessionStatus.IN_FLIGHT));
            Plan newer = plan(300);
            newer.applyTo(store);
            assertThat(store.isResident(held)).isFalse();
            assertThat(store.summary(held).orElseThrow().status()).isEqualTo(SessionStatus.IN_FLIGHT);

            // WHEN it is held for approval and then completed
            store.complete(summary(held, 1, SessionStatus.PENDING_APPROVAL),
                    recordingOf(held, SessionStatus.PENDING_APPROVAL, 1));
            ObjectNode finished = recordingOf(held, SessionStatus.COMPLETED, 1);
            store.complete(summary(held, 1, SessionStatus.COMPLETED), finished);

            // THEN it reads as completed, from disk, and lists under its new status only
            assertThat(store.isResident(held)).isFalse();
            assertThat(store.summary(held)).contains(summary(held, 1, SessionStatus.COMPLETED));
            assertThat(store.recording(held)).contains(finished);
            assertThat(ids(store.list(query("ops", SessionStatus.COMPLETED, null, null, null, 200, null), s -> true)))
                    .contains(held);
            assertThat(ids(store.list(query("ops", SessionStatus.IN_FLIGHT, null, null, null, 200, null), s -> true)))
                    .doesNotContain(held);
            // AND its id cannot be begun again
            assertThatThrownBy(() -> store.begin(summary(held, 1, SessionStatus.IN_FLIGHT)))
                    .isInstanceOf(IllegalStateException.class);
        }

        // AND after a restart (where it is evicted again while the index replays) the last line still wins
        try (FileSessionStore reopened = FileSessionStore.open(dir, LIMIT)) {
            assertThat(reopened.isResident(held)).isFalse();
            assertThat(reopened.summary(held).orElseThrow().status()).isEqualTo(SessionStatus.COMPLETED);
            assertThat(reopened.recording(held).orElseThrow().path("status").asText()).isEqualTo("COMPLETED");
        }
    }

    private static List<String> ids(SessionPage page) {
        return page.sessions().stream().map(SessionSummary::id).toList();
    }

    @Test
    void open_keepsOnlyTheNewestSessionsInMemory_whenReplayingABigIndex() throws Exception {
        // GIVEN an index of 5,000 sessions written by a store without a limit
        Plan plan = plan(5_000);
        try (FileSessionStore store = FileSessionStore.open(dir, Integer.MAX_VALUE)) {
            plan.applyTo(store);
            assertThat(store.residentCount()).isEqualTo(5_000);
        }

        // WHEN a store with a limit of 100 opens it
        try (FileSessionStore reopened = FileSessionStore.open(dir, LIMIT)) {
            // THEN at most 100 are in memory, among them the newest that an eviction pass keeps (the index
            // was written partly out of id order, so the others may be older ones read after them)
            int kept = LIMIT - FileSessionStore.MIN_EVICTION_BATCH;
            assertThat(reopened.residentCount()).isBetween(kept, LIMIT);
            List<String> newestFirst = plan.idsNewestFirst();
            for (int i = 0; i < kept; i++) {
                assertThat(reopened.isResident(newestFirst.get(i))).as("id %d", i).isTrue();
            }
            // AND every session reads back, the evicted ones from under 40 bytes each
            assertThat(reopened.size()).isEqualTo(5_000);
            assertThat(reopened.directoryBytes()).isLessThanOrEqualTo(40L * reopened.evictedCount());
            assertReadsBack(reopened, plan);
        }
    }

    @Test
    void everySessionIsFound_whenEightThreadsWriteWhileOthersReadAndList() throws Exception {
        // GIVEN a store that keeps 100 sessions in memory, 8 writers of 1,000 sessions each (each completed
        // 20 sessions after its begin), and 2 readers that read and list what is finished
        int writers = 8;
        int perWriter = 1_000;
        FileSessionStore store = FileSessionStore.open(dir, LIMIT);
        Map<String, Op> finished = new ConcurrentHashMap<>();
        NavigableSet<String> finishedIds = new ConcurrentSkipListSet<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> writes = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            writes.add(pool.submit(() -> {
                start.await();
                Queue<Op> pending = new ArrayDeque<>();
                for (int k = 0; k < perWriter; k++) {
                    int i = writer * perWriter + k;
                    String id = ids.next();
                    store.begin(summary(id, i, SessionStatus.IN_FLIGHT));
                    pending.add(new Op(summary(id, i, SessionStatus.COMPLETED), recordingOf(id, SessionStatus.COMPLETED, i)));
                    if (pending.size() > 20) {
                        Op op = pending.remove();
                        op.applyTo(store);
                        finished.put(op.summary().id(), op);
                        finishedIds.add(op.summary().id());
                    }
                }
                for (Op op : pending) {
                    op.applyTo(store);
                    finished.put(op.summary().id(), op);
                    finishedIds.add(op.summary().id());
                }
                return null;
            }));
        }
        List<Future<Integer>> reads = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            reads.add(pool.submit(() -> {
                start.await();
                int checks = 0;
                Random random = new Random();
                do {
                    // the newest page, where sessions leave memory while it is read, holds every newer
                    // session finished before it was asked for
                    for (int k = 0; k < 20; k++) {
                        List<String> newest = finishedIds.descendingSet().stream().limit(300).toList();
                        SessionPage page = store.list(query(null, null, null, null, null, 200, null), s -> true);
                        List<String> listed = ids(page);
                        assertThat(listed).isSortedAccordingTo(Comparator.reverseOrder()).doesNotHaveDuplicates();
                        String oldest = listed.isEmpty() ? "" : listed.get(listed.size() - 1);
                        assertThat(listed).containsAll(newest.stream()
                                .filter(id -> page.nextCursor() == null || id.compareTo(oldest) >= 0).toList());
                    }
                    List<Op> done = new ArrayList<>(finished.values());
                    // every finished session reads back
                    for (int k = 0; k < 50 && !done.isEmpty(); k++) {
                        Op op = done.get(random.nextInt(done.size()));
                        assertThat(store.summary(op.summary().id())).contains(op.summary());
                        assertThat(store.recording(op.summary().id())).contains(op.recording());
                    }
                    // a full listing, newest first, holds every session finished before it began
                    List<String> listed = new ArrayList<>();
                    for (SessionPage page : pages(store, query(null, null, null, null, null, 200, null), s -> true)) {
                        page.sessions().forEach(s -> listed.add(s.id()));
                    }
                    List<String> sorted = new ArrayList<>(listed);
                    sorted.sort(Comparator.reverseOrder());
                    assertThat(listed).isEqualTo(sorted).doesNotHaveDuplicates();
                    assertThat(new HashSet<>(listed)).containsAll(done.stream().map(op -> op.summary().id()).toList());
                    checks++;
                } while (writing.get());
                return checks;
            }));
        }

        // WHEN they all run at once
        start.countDown();
        for (Future<?> f : writes) {
            f.get();
        }
        writing.set(false);
        for (Future<Integer> f : reads) {
            assertThat(f.get()).isPositive();
        }
        pool.shutdown();

        // THEN every session is found as finished, and the listing is all of them, once each, newest first
        assertThat(finished).hasSize(writers * perWriter);
        Map<String, Op> expected = new LinkedHashMap<>(finished);
        assertReadsBack(store, new Plan(List.of(), expected));
        List<String> listed = new ArrayList<>();
        for (SessionPage page : pages(store, query(null, null, null, null, null, 200, null), s -> true)) {
            page.sessions().forEach(s -> listed.add(s.id()));
        }
        List<String> all = new ArrayList<>(expected.keySet());
        all.sort(Comparator.reverseOrder());
        assertThat(listed).isEqualTo(all);
        // AND memory stayed bounded: 110 % of the limit, plus at most one session per writer mid-write
        assertThat(store.residentCount()).isLessThanOrEqualTo(HARD_LIMIT + writers);
        assertThat(store.directoryBytes()).isLessThanOrEqualTo(40L * store.evictedCount());
        store.close();
    }
}
