package dev.policygate.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The recordings layout: one append-only file a UTC day, located by offset and length in the index. */
class FileSessionStoreDayFileTest {
    private static final Instant NOON = Instant.parse("2026-11-25T12:00:00Z");
    private static final String DAY_FILE = "sessions/2026/11/25/recordings.jsonl";
    @TempDir
    Path dir;
    final SessionIds ids = new SessionIds(Clock.systemUTC());

    private static SessionSummary summary(String id, SessionStatus status, Instant startedAt) {
        return new SessionSummary(id, "dev", status, "ALLOW", "POST /v1/messages", "claude-x", 200, List.of("p1"),
                startedAt, status.terminal() ? startedAt.plusSeconds(1) : null);
    }

    private static ObjectNode recordingOf(String id, String text) {
        ObjectNode r = Json.mapper().createObjectNode().put("session_id", id).put("status", "COMPLETED");
        r.putObject("request").put("text", text);
        return r;
    }

    /** begin + complete, as the gateway does; returns the recording written. */
    private static ObjectNode record(FileSessionStore store, String id, Instant startedAt) throws IOException {
        ObjectNode rec = recordingOf(id, "hello from " + id);
        store.begin(summary(id, SessionStatus.IN_FLIGHT, startedAt));
        store.complete(summary(id, SessionStatus.COMPLETED, startedAt), rec);
        return rec;
    }

    /** The last index line of each id, as the store replays them. */
    private Map<String, JsonNode> indexLines() throws IOException {
        Map<String, JsonNode> lines = new HashMap<>();
        for (String line : Files.readAllLines(dir.resolve("index.jsonl"), StandardCharsets.UTF_8)) {
            try {
                JsonNode n = Json.mapper().readTree(line);
                lines.put(n.path("id").asText(), n);
            } catch (IOException torn) {
                // a torn line is not an entry
            }
        }
        return lines;
    }

    @Test
    void recording_roundTrips_andTheIndexLineNamesItsBytesInTheDayFile() throws Exception {
        // GIVEN a store
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            // WHEN two sessions are recorded on the same day
            ObjectNode first = record(store, ids.next(), NOON);
            String id = ids.next();
            ObjectNode second = record(store, id, NOON.plusSeconds(5));

            // THEN each reads back whole
            assertThat(store.recording(id)).contains(second);
            assertThat(store.recording(first.path("session_id").asText())).contains(first);

            // AND the index line names the day file, and the offset and length of the recording's JSON in it
            JsonNode line = indexLines().get(id);
            assertThat(line.path("rec_file").asText()).isEqualTo(DAY_FILE);
            byte[] day = Files.readAllBytes(dir.resolve(DAY_FILE));
            int offset = line.path("rec_offset").asInt();
            int length = line.path("rec_length").asInt();
            assertThat(offset).isEqualTo(Json.mapper().writeValueAsBytes(first).length + 1);
            assertThat(Arrays.copyOfRange(day, offset, offset + length)).isEqualTo(Json.mapper().writeValueAsBytes(second));
            assertThat(day).hasSize(offset + length + 1);
            assertThat(day[day.length - 1]).isEqualTo((byte) '\n');
        }
    }

    @Test
    void recording_survivesRestart_whenWrittenToTheDayFile() throws Exception {
        // GIVEN sessions recorded, and the store closed as on a clean shutdown
        Map<String, ObjectNode> written = new HashMap<>();
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            for (int i = 0; i < 20; i++) {
                String id = ids.next();
                written.put(id, record(store, id, NOON.plusMillis(i)));
            }
        }

        // WHEN a new process opens the data dir
        try (FileSessionStore reopened = FileSessionStore.open(dir)) {
            // THEN every recording reads back as written, and they are the lines of one file
            for (Map.Entry<String, ObjectNode> e : written.entrySet()) {
                assertThat(reopened.recording(e.getKey())).as(e.getKey()).contains(e.getValue());
                assertThat(reopened.summary(e.getKey()).orElseThrow().status()).isEqualTo(SessionStatus.COMPLETED);
            }
            assertThat(Files.readAllLines(dir.resolve(DAY_FILE))).hasSize(20);
            try (var files = Files.walk(dir.resolve("sessions"))) {
                assertThat(files.filter(Files::isRegularFile)).containsExactly(dir.resolve(DAY_FILE));
            }
        }
    }

    @Test
    void close_thenReopen_losesNothing_andLaterRecordingsAppendAfterTheEarlierOnes() throws Exception {
        // GIVEN a store that recorded sessions and was closed
        Map<String, ObjectNode> written = new HashMap<>();
        FileSessionStore store = FileSessionStore.open(dir);
        for (int i = 0; i < 10; i++) {
            String id = ids.next();
            written.put(id, record(store, id, NOON));
        }
        store.close();

        // WHEN it is reopened and records more on the same day, then closed and reopened again
        FileSessionStore second = FileSessionStore.open(dir);
        for (int i = 0; i < 10; i++) {
            String id = ids.next();
            written.put(id, record(second, id, NOON));
        }
        second.close();

        // THEN all recordings of both runs read back, from one day file
        try (FileSessionStore third = FileSessionStore.open(dir)) {
            for (Map.Entry<String, ObjectNode> e : written.entrySet()) {
                assertThat(third.recording(e.getKey())).as(e.getKey()).contains(e.getValue());
            }
            assertThat(third.size()).isEqualTo(20);
        }
        assertThat(Files.readAllLines(dir.resolve(DAY_FILE))).hasSize(20);
    }

    @Test
    void recordings_areAllReadable_whenManyThreadsCompleteSessionsConcurrently() throws Exception {
        // GIVEN 8 threads that each record 500 sessions at the same time, with the committer running
        int threads = 8;
        int perThread = 500;
        Map<String, ObjectNode> written = new ConcurrentHashMap<>();
        FileSessionStore store = FileSessionStore.open(dir);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < perThread; i++) {
                    String id = ids.next();
                    // sizes vary so that offsets are not multiples of one length
                    ObjectNode rec = recordingOf(id, "thread " + thread + " session " + i + " " + "x".repeat(i % 37));
                    store.begin(summary(id, SessionStatus.IN_FLIGHT, NOON));
                    store.complete(summary(id, SessionStatus.COMPLETED, NOON), rec);
                    written.put(id, rec);
                }
                return null;
            }));
        }

        // WHEN they all finish
        start.countDown();
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();

        // THEN every recording reads back as written, before and after a restart
        assertThat(written).hasSize(threads * perThread);
        for (Map.Entry<String, ObjectNode> e : written.entrySet()) {
            assertThat(store.recording(e.getKey())).as(e.getKey()).contains(e.getValue());
        }
        store.close();
        try (FileSessionStore reopened = FileSessionStore.open(dir)) {
            for (Map.Entry<String, ObjectNode> e : written.entrySet()) {
                assertThat(reopened.recording(e.getKey())).as(e.getKey()).contains(e.getValue());
            }
        }
        // AND the day file holds exactly one whole line per recording
        List<String> lines = Files.readAllLines(dir.resolve(DAY_FILE));
        assertThat(lines).hasSize(threads * perThread);
        for (String line : lines) {
            JsonNode n = Json.mapper().readTree(line);
            assertThat(n).isEqualTo(written.get(n.path("session_id").asText()));
        }
    }

    @Test
    void aTornLastRecordingLine_readsAsNoRecording_andTheNextRecordingStartsOnItsOwnLine() throws Exception {
        // GIVEN two sessions whose index lines reached the disk, but the second recording was cut short
        // (a power loss between the commits of the index and of the day file)
        String kept = ids.next();
        String torn = ids.next();
        ObjectNode keptRecording;
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            keptRecording = record(store, kept, NOON);
            record(store, torn, NOON);
        }
        Path day = dir.resolve(DAY_FILE);
        try (FileChannel channel = FileChannel.open(day, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 10);
        }

        // WHEN the data dir is opened, read, and a new session recorded
        String next = ids.next();
        ObjectNode nextRecording;
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            // THEN the torn recording is no recording (no exception), and the whole one still reads
            assertThat(store.recording(torn)).isEmpty();
            assertThat(store.summary(torn)).isPresent();
            assertThat(store.recording(kept)).contains(keptRecording);
            nextRecording = record(store, next, NOON);
            assertThat(store.recording(next)).contains(nextRecording);
        }

        // AND after a restart the new recording reads back, on a line of its own after the torn one
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            assertThat(store.recording(next)).contains(nextRecording);
            assertThat(store.recording(torn)).isEmpty();
        }
        List<String> lines = Files.readAllLines(day);
        assertThat(lines).hasSize(3);
        assertThat(Json.mapper().readTree(lines.get(2))).isEqualTo(nextRecording);
    }

    @Test
    void aTornLastIndexLine_isSkipped_andTheNextIndexLineIsNotGluedToIt() throws Exception {
        // GIVEN a data dir whose index ends in a line cut short
        String before = ids.next();
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            record(store, before, NOON);
        }
        Files.writeString(dir.resolve("index.jsonl"), "{\"id\":\"01", StandardOpenOption.APPEND);

        // WHEN it is opened and a session is recorded, then opened again
        String after = ids.next();
        ObjectNode afterRecording;
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            afterRecording = record(store, after, NOON);
        }

        // THEN both sessions are there: the torn line was skipped, and the new lines did not join it
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            assertThat(store.size()).isEqualTo(2);
            assertThat(store.recording(after)).contains(afterRecording);
            assertThat(store.recording(before)).isPresent();
        }
    }

    @Test
    void recording_isEmpty_whenTheIndexNamesAnotherSessionsBytes_orBytesPastTheEnd() throws Exception {
        // GIVEN two recorded sessions
        String first = ids.next();
        String second = ids.next();
        String third = ids.next();
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            record(store, first, NOON);
            record(store, second, NOON);
            record(store, third, NOON);
        }
        // AND index lines (the last wins) that point the first at the second's recording, and the third past the end
        Map<String, JsonNode> lines = indexLines();
        ObjectNode wrong = ((ObjectNode) lines.get(first).deepCopy())
                .put("rec_offset", lines.get(second).path("rec_offset").asLong())
                .put("rec_length", lines.get(second).path("rec_length").asInt());
        ObjectNode past = ((ObjectNode) lines.get(third).deepCopy())
                .put("rec_offset", Files.size(dir.resolve(DAY_FILE)) + 100);
        Files.writeString(dir.resolve("index.jsonl"), Json.mapper().writeValueAsString(wrong) + "\n"
                + Json.mapper().writeValueAsString(past) + "\n", StandardOpenOption.APPEND);

        // WHEN the recordings are read after a restart
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            // THEN the mismatched and the missing ones are no recording, never another session's
            assertThat(store.recording(first)).isEmpty();
            assertThat(store.recording(third)).isEmpty();
            assertThat(store.recording(second).orElseThrow().path("session_id").asText()).isEqualTo(second);
        }
    }

    @Test
    void anOldLayoutDataDir_isStillRead_andNewRecordingsGoToTheDayFile() throws Exception {
        // GIVEN a data dir written by the previous layout: one <id>.json per session, index lines without offsets
        String old = ids.next();
        ObjectNode oldRecording = recordingOf(old, "recorded before the day files");
        Path oldFile = dir.resolve("sessions/2026/11/24/" + old + ".json");
        Files.createDirectories(oldFile.getParent());
        Files.write(oldFile, Json.mapper().writeValueAsBytes(oldRecording));
        Files.writeString(dir.resolve("index.jsonl"), """
                {"id":"%1$s","principal":"dev","status":"IN_FLIGHT","decision":"ALLOW","route":"POST /v1/messages","model":"claude-x","http_status":200,"policy_ids":["p1"],"started_at":"2026-11-24T09:00:00Z","ended_at":null}
                {"id":"%1$s","principal":"dev","status":"COMPLETED","decision":"ALLOW","route":"POST /v1/messages","model":"claude-x","http_status":200,"policy_ids":["p1"],"started_at":"2026-11-24T09:00:00Z","ended_at":"2026-11-24T09:00:01Z"}
                """.formatted(old));

        // WHEN the store opens it and records a new session
        String fresh = ids.next();
        ObjectNode freshRecording;
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            // THEN the old session and its recording are served from the old file
            assertThat(store.summary(old).orElseThrow().status()).isEqualTo(SessionStatus.COMPLETED);
            assertThat(store.recording(old)).contains(oldRecording);
            freshRecording = record(store, fresh, NOON);
        }

        // AND after a restart both read back, the new one from the day file
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            assertThat(store.recording(old)).contains(oldRecording);
            assertThat(store.recording(fresh)).contains(freshRecording);
        }
        assertThat(indexLines().get(fresh).path("rec_file").asText()).isEqualTo(DAY_FILE);
    }

    @Test
    void aSessionCrossingMidnight_isRecordedInTheFileOfTheDayItStarted() throws Exception {
        // GIVEN a session that starts just before midnight (UTC) and one that starts just after
        Instant lateEvening = Instant.parse("2026-12-31T23:59:59.900Z");
        Instant justAfter = Instant.parse("2027-01-01T00:00:00.200Z");
        String crossing = ids.next();
        String newYear = ids.next();
        String later = ids.next();
        ObjectNode crossingRecording = recordingOf(crossing, "started last year");
        ObjectNode newYearRecording;
        ObjectNode laterRecording;
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            store.begin(summary(crossing, SessionStatus.IN_FLIGHT, lateEvening));

            // WHEN the new day's session completes first, then the crossing one, then another new one
            newYearRecording = record(store, newYear, justAfter);
            store.complete(summary(crossing, SessionStatus.COMPLETED, lateEvening), crossingRecording);
            laterRecording = record(store, later, justAfter.plusSeconds(1));

            // THEN each reads back at once
            assertThat(store.recording(crossing)).contains(crossingRecording);
            assertThat(store.recording(newYear)).contains(newYearRecording);
            assertThat(store.recording(later)).contains(laterRecording);
        }

        // AND the crossing session is in the file of the day it started, the others in the new day's
        assertThat(indexLines().get(crossing).path("rec_file").asText())
                .isEqualTo("sessions/2026/12/31/recordings.jsonl");
        assertThat(indexLines().get(newYear).path("rec_file").asText())
                .isEqualTo("sessions/2027/01/01/recordings.jsonl");
        assertThat(Files.readAllLines(dir.resolve("sessions/2026/12/31/recordings.jsonl"))).hasSize(1);
        assertThat(Files.readAllLines(dir.resolve("sessions/2027/01/01/recordings.jsonl"))).hasSize(2);
        try (FileSessionStore store = FileSessionStore.open(dir)) {
            assertThat(store.recording(crossing)).contains(crossingRecording);
            assertThat(store.recording(newYear)).contains(newYearRecording);
            assertThat(store.recording(later)).contains(laterRecording);
        }
    }
}
