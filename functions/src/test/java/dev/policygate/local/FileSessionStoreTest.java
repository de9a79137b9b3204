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

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileSessionStoreTest {
    @TempDir
    Path dir;
    final SessionIds ids = new SessionIds(Clock.systemUTC());

    private SessionSummary summary(String id, String principal, SessionStatus status, String decision) {
        return new SessionSummary(id, principal, status, decision, "POST /v1/messages", "claude-x", 200, List.of("p1"),
                Instant.parse("2026-11-25T10:00:00Z"), status.terminal() ? Instant.parse("2026-11-25T10:00:01Z") : null);
    }

    @Test
    void writeAheadEntry_survivesARestart_asInFlight() throws Exception {
        String id = ids.next();
        FileSessionStore.open(dir).begin(summary(id, "dev", SessionStatus.IN_FLIGHT, "ALLOW"));
        // a crash here: no complete(); a new process must still see the session
        FileSessionStore reopened = FileSessionStore.open(dir);
        assertThat(reopened.summary(id)).get().extracting(SessionSummary::status).isEqualTo(SessionStatus.IN_FLIGHT);
    }

    @Test
    void begin_refusesADuplicateId() throws Exception {
        FileSessionStore store = FileSessionStore.open(dir);
        String id = ids.next();
        store.begin(summary(id, "dev", SessionStatus.IN_FLIGHT, "ALLOW"));
        assertThatThrownBy(() -> store.begin(summary(id, "dev", SessionStatus.IN_FLIGHT, "ALLOW")))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void complete_writesTheRecordingUnderItsDate_andTheLastIndexLineWins() throws Exception {
        FileSessionStore store = FileSessionStore.open(dir);
        String id = ids.next();
        store.begin(summary(id, "dev", SessionStatus.IN_FLIGHT, "ALLOW"));
        ObjectNode rec = Json.mapper().createObjectNode().put("session_id", id);
        store.complete(summary(id, "dev", SessionStatus.COMPLETED, "ALLOW"), rec);
        assertThat(Files.readAllLines(dir.resolve("sessions/2026/11/25/recordings.jsonl"))).hasSize(1);
        FileSessionStore reopened = FileSessionStore.open(dir);
        assertThat(reopened.summary(id).orElseThrow().status()).isEqualTo(SessionStatus.COMPLETED);
        assertThat(reopened.recording(id).orElseThrow().path("session_id").asText()).isEqualTo(id);
    }

    @Test
    void close_commitsEverything_andTheNextOpenSeesIt_whileTheRequestPathNeverWaitsForAnFsync() throws Exception {
        // GIVEN many sessions written through the store (each begin/complete hands its bytes to the kernel only)
        FileSessionStore store = FileSessionStore.open(dir);
        List<String> written = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String id = ids.next();
            store.begin(summary(id, "dev", SessionStatus.IN_FLIGHT, "ALLOW"));
            store.complete(summary(id, "dev", SessionStatus.COMPLETED, "ALLOW"),
                    Json.mapper().createObjectNode().put("session_id", id));
            written.add(id);
        }

        // WHEN the store is closed (as on a clean shutdown), twice
        store.close();
        store.close();

        // THEN every session and recording is there after a restart
        FileSessionStore reopened = FileSessionStore.open(dir);
        for (String id : written) {
            assertThat(reopened.summary(id).orElseThrow().status()).isEqualTo(SessionStatus.COMPLETED);
            assertThat(reopened.recording(id)).isPresent();
        }
        assertThat(Files.readAllLines(dir.resolve("index.jsonl"))).hasSize(100);
        reopened.close();
    }

    @Test
    void commit_fsyncsTheIndexOnlyAfterItWasWritten_soAnIdleStoreSyncsNothing() throws Exception {
        // GIVEN a store whose first pass has run
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            store.commit();
            long afterOpen = store.indexSyncs();
            // WHEN passes run with nothing written
            store.commit();
            store.commit();
            // THEN none of them fsyncs the index
            assertThat(store.indexSyncs()).isEqualTo(afterOpen);
            // AND the first pass after a write does, once
            store.begin(summary(ids.next(), "dev", SessionStatus.IN_FLIGHT, "ALLOW"));
            store.commit();
            store.commit();
            assertThat(store.indexSyncs()).isEqualTo(afterOpen + 1);
        }
    }

    @Test
    void commit_canRunWhileSessionsAreWritten() throws Exception {
        FileSessionStore store = FileSessionStore.open(dir);
        for (int i = 0; i < 20; i++) {
            String id = ids.next();
            store.begin(summary(id, "dev", SessionStatus.IN_FLIGHT, "ALLOW"));
            store.complete(summary(id, "dev", SessionStatus.COMPLETED, "ALLOW"),
                    Json.mapper().createObjectNode().put("session_id", id));
            store.commit();
        }
        assertThat(store.size()).isEqualTo(20);
        store.close();
    }

    @Test
    void aTornLastIndexLine_isSkipped_notFatal() throws Exception {
        FileSessionStore store = FileSessionStore.open(dir);
        String id = ids.next();
        store.begin(summary(id, "dev", SessionStatus.IN_FLIGHT, "ALLOW"));
        Files.writeString(dir.resolve("index.jsonl"), "{\"id\":\"01", StandardOpenOption.APPEND);
        assertThat(FileSessionStore.open(dir).summary(id)).isPresent();
    }

    @Test
    void list_pagesNewestFirst_andFiltersByPrincipalStatusDecisionAndVisibility() throws Exception {
        FileSessionStore store = FileSessionStore.open(dir);
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            String id = ids.next();
            created.add(id);
            store.complete(summary(id, i % 2 == 0 ? "dev" : "ops", i == 3 ? SessionStatus.DENIED : SessionStatus.COMPLETED,
                    i == 3 ? "DENY" : "ALLOW"), Json.mapper().createObjectNode());
            Thread.sleep(2);
        }
        SessionPage first = store.list(new SessionQuery(null, null, null, null, null, 3, null), s -> true);
        assertThat(first.sessions()).extracting(SessionSummary::id)
                .containsExactly(created.get(6), created.get(5), created.get(4));
        SessionPage second = store.list(new SessionQuery(null, null, null, null, null, 3, first.nextCursor()), s -> true);
        assertThat(second.sessions()).extracting(SessionSummary::id)
                .containsExactly(created.get(3), created.get(2), created.get(1));
        assertThat(store.list(new SessionQuery("dev", null, null, null, null, 50, null), s -> true).sessions())
                .hasSize(4);
        assertThat(store.list(new SessionQuery(null, SessionStatus.DENIED, "DENY", null, null, 50, null), s -> true)
                .sessions()).extracting(SessionSummary::id).containsExactly(created.get(3));
        assertThat(store.list(new SessionQuery(null, null, null, null, null, 50, null),
                s -> "ops".equals(s.principal())).sessions()).hasSize(3);
    }
}
