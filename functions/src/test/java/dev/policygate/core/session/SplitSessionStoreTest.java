package dev.policygate.core.session;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** {@link SplitSessionStore} with in-memory fakes of its two ports. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class SplitSessionStoreTest {
    /** How long a fake waits for the other write to start before concluding they were sequential. */
    private static final long OVERLAP_WAIT_SECONDS = 5;

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final SessionIds ids = new SessionIds(Clock.systemUTC());
    private final FakeIndex index = new FakeIndex();
    private final FakeRecorder recorder = new FakeRecorder();
    private final SplitSessionStore store = new SplitSessionStore(index, recorder, executor);

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    private SessionSummary summary(String id, SessionStatus status) {
        Instant started = Instant.parse("2026-11-25T10:00:00Z");
        return new SessionSummary(id, "dev@example.com", status, "ALLOW", "POST /v1/messages", "claude-x", 200,
                List.of("p1"), started, status.terminal() ? started.plusSeconds(1) : null);
    }

    private static ObjectNode recording(String id) {
        return Json.mapper().createObjectNode().put("session_id", id);
    }

    @Test
    void complete_writesTheRecordingAndUpdatesTheIndexConcurrently() throws Exception {
        // GIVEN a recorder and an index that each block until the other has started
        CountDownLatch putStarted = new CountDownLatch(1);
        CountDownLatch updateStarted = new CountDownLatch(1);
        recorder.onWrite = () -> {
            putStarted.countDown();
            recorder.sawOther = updateStarted.await(OVERLAP_WAIT_SECONDS, TimeUnit.SECONDS);
        };
        index.onUpdate = () -> {
            updateStarted.countDown();
            index.sawOther = putStarted.await(OVERLAP_WAIT_SECONDS, TimeUnit.SECONDS);
        };
        String id = ids.next();
        // WHEN a session completes
        store.complete(summary(id, SessionStatus.COMPLETED), recording(id));
        // THEN each write saw the other under way (sequential writes would each time out once)
        assertThat(recorder.sawOther).as("the index update started while the put was running").isTrue();
        assertThat(index.sawOther).as("the put started while the index update was running").isTrue();
        // AND both writes landed
        assertThat(recorder.recordings).containsEntry(id, recording(id));
        assertThat(index.entries.get(id).status()).isEqualTo(SessionStatus.COMPLETED);
    }

    @Test
    void complete_throwsTheRecorderFailure_afterTheIndexUpdateHappened() {
        // GIVEN a recorder that fails
        IOException putFailure = new IOException("put failed");
        recorder.onWrite = () -> {
            throw putFailure;
        };
        String id = ids.next();
        // WHEN a session completes THEN the recorder's failure is thrown
        assertThatThrownBy(() -> store.complete(summary(id, SessionStatus.COMPLETED), recording(id)))
                .isSameAs(putFailure);
        // AND the index still records how the session ended
        assertThat(index.entries.get(id).status()).isEqualTo(SessionStatus.COMPLETED);
    }

    @Test
    void complete_reportsAnUncheckedRecorderFailure_asIOException() {
        // GIVEN a recorder with a bug
        IllegalStateException bug = new IllegalStateException("bug");
        recorder.onWrite = () -> {
            throw bug;
        };
        String id = ids.next();
        // WHEN a session completes THEN the caller still gets an IOException, caused by the bug
        assertThatThrownBy(() -> store.complete(summary(id, SessionStatus.COMPLETED), recording(id)))
                .isInstanceOf(IOException.class).hasCause(bug);
        assertThat(index.entries).containsKey(id);
    }

    @Test
    void complete_throwsTheIndexFailure_afterTheRecordingWasWritten() {
        // GIVEN an index that fails
        IOException updateFailure = new IOException("update failed");
        index.onUpdate = () -> {
            throw updateFailure;
        };
        String id = ids.next();
        // WHEN a session completes THEN the index's failure is thrown
        assertThatThrownBy(() -> store.complete(summary(id, SessionStatus.COMPLETED), recording(id)))
                .isSameAs(updateFailure);
        // AND complete() waited for the recording, which was written
        assertThat(recorder.recordings).containsKey(id);
    }

    @Test
    void complete_throwsOneIOException_withTheOtherSuppressed_whenBothFail() {
        // GIVEN a recorder and an index that both fail
        IOException putFailure = new IOException("put failed");
        IOException updateFailure = new IOException("update failed");
        recorder.onWrite = () -> {
            throw putFailure;
        };
        index.onUpdate = () -> {
            throw updateFailure;
        };
        String id = ids.next();
        // WHEN a session completes
        Throwable thrown = catchThrowable(
                () -> store.complete(summary(id, SessionStatus.COMPLETED), recording(id)));
        // THEN one of the failures is thrown, carrying the other, so neither is lost
        assertThat(thrown).isIn(putFailure, updateFailure);
        IOException other = thrown == putFailure ? updateFailure : putFailure;
        assertThat(thrown.getSuppressed()).containsExactly(other);
    }

    @Test
    void begin_writesAheadToTheIndexOnly() throws Exception {
        // GIVEN a new session
        String id = ids.next();
        // WHEN it begins
        store.begin(summary(id, SessionStatus.IN_FLIGHT));
        // THEN the index has the in-flight entry and nothing was recorded
        assertThat(index.begins.get()).isEqualTo(1);
        assertThat(store.summary(id)).get().extracting(SessionSummary::status).isEqualTo(SessionStatus.IN_FLIGHT);
        assertThat(recorder.recordings).isEmpty();
    }

    @Test
    void begin_passesOnTheIndexRefusalOfADuplicateId() throws Exception {
        // GIVEN a session that has begun
        String id = ids.next();
        store.begin(summary(id, SessionStatus.IN_FLIGHT));
        // WHEN the same id begins again THEN the index's refusal reaches the caller
        assertThatThrownBy(() -> store.begin(summary(id, SessionStatus.IN_FLIGHT)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void recording_readsWithTheSummaryFromTheIndex() throws Exception {
        // GIVEN a completed session
        String id = ids.next();
        SessionSummary completed = summary(id, SessionStatus.COMPLETED);
        store.begin(summary(id, SessionStatus.IN_FLIGHT));
        store.complete(completed, recording(id));
        // WHEN its recording is asked for by id
        Optional<ObjectNode> read = store.recording(id);
        // THEN the recorder was given the index entry (it locates the object by its start date)
        assertThat(read).contains(recording(id));
        assertThat(recorder.readWith).containsExactly(completed);
    }

    @Test
    void recording_isEmpty_withoutAskingTheRecorder_whenTheIndexHasNoSuchSession() throws Exception {
        assertThat(store.recording(ids.next())).isEmpty();
        assertThat(recorder.readWith).isEmpty();
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private static void run(Step step) throws IOException {
        try {
            step.run();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static final class FakeIndex implements SessionIndex {
        final Map<String, SessionSummary> entries = new ConcurrentHashMap<>();
        final AtomicInteger begins = new AtomicInteger();
        volatile Step onUpdate = () -> { };
        volatile boolean sawOther;

        @Override
        public void begin(SessionSummary inFlight) {
            begins.incrementAndGet();
            if (entries.putIfAbsent(inFlight.id(), inFlight) != null) {
                throw new IllegalStateException("duplicate session id");
            }
        }

        @Override
        public void update(SessionSummary summary) throws IOException {
            run(onUpdate);
            entries.put(summary.id(), summary);
        }

        @Override
        public Optional<SessionSummary> get(String id) {
            return Optional.ofNullable(entries.get(id));
        }

        @Override
        public SessionPage list(SessionQuery query, Predicate<SessionSummary> visible) {
            throw new AssertionError("the split store never lists through this fake");
        }
    }

    private static final class FakeRecorder implements SessionRecorder {
        final Map<String, ObjectNode> recordings = new ConcurrentHashMap<>();
        final List<SessionSummary> readWith = new CopyOnWriteArrayList<>();
        volatile Step onWrite = () -> { };
        volatile boolean sawOther;

        @Override
        public void write(SessionSummary summary, ObjectNode recording) throws IOException {
            run(onWrite);
            recordings.put(summary.id(), recording);
        }

        @Override
        public Optional<ObjectNode> read(SessionSummary summary) {
            readWith.add(summary);
            return Optional.ofNullable(recordings.get(summary.id()));
        }
    }
}
