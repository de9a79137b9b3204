package dev.policygate.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionStore;
import dev.policygate.core.session.SessionSummary;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * Local sessions: one JSON recording per session under
 * {@code <data-dir>/sessions/yyyy/mm/dd/<id>.json}, and an embedded index: an append-only
 * {@code index.jsonl} (the last line for an id wins) replayed into memory at start-up.
 * A crash leaves the IN_FLIGHT line written before the forward, never a gap.
 */
final class FileSessionStore implements SessionStore {
    private static final Logger LOG = Logger.getLogger(FileSessionStore.class.getName());
    private final Path dir;
    private final Path indexFile;
    private final NavigableMap<String, SessionSummary> index = new ConcurrentSkipListMap<>();
    private final Object appendLock = new Object();
    private final OutputStream indexOut;

    private FileSessionStore(Path dir) throws IOException {
        this.dir = dir;
        this.indexFile = dir.resolve("index.jsonl");
        Files.createDirectories(dir.resolve("sessions"));
        if (Files.exists(indexFile)) {
            load();
        }
        this.indexOut = Files.newOutputStream(indexFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
    }

    static FileSessionStore open(Path dataDir) throws IOException {
        return new FileSessionStore(dataDir);
    }

    private void load() throws IOException {
        int bad = 0;
        try (BufferedReader r = Files.newBufferedReader(indexFile, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    SessionSummary s = fromJson(Json.mapper().readTree(line));
                    index.put(s.id(), s);
                } catch (IOException | RuntimeException e) {
                    bad++;
                }
            }
        }
        if (bad > 0) {
            LOG.warning("session index: skipped " + bad + " unreadable line(s) in " + indexFile);
        }
    }

    @Override
    public void begin(SessionSummary inFlight) throws IOException {
        if (index.putIfAbsent(inFlight.id(), inFlight) != null) {
            throw new IllegalStateException("session id already exists: " + inFlight.id());
        }
        append(inFlight);
    }

    @Override
    public void complete(SessionSummary summary, ObjectNode recording) throws IOException {
        Path file = recordingPath(summary.id(), summary.startedAt());
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, Json.mapper().writeValueAsBytes(recording));
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        index.put(summary.id(), summary);
        append(summary);
    }

    private void append(SessionSummary s) throws IOException {
        byte[] line = (Json.mapper().writeValueAsString(toJson(s)) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (appendLock) {
            indexOut.write(line);
            indexOut.flush();
        }
    }

    Path recordingPath(String id, Instant startedAt) {
        ZonedDateTime t = startedAt.atZone(ZoneOffset.UTC);
        return dir.resolve("sessions").resolve(String.format("%04d/%02d/%02d", t.getYear(), t.getMonthValue(),
                t.getDayOfMonth())).resolve(id + ".json");
    }

    @Override
    public Optional<SessionSummary> summary(String id) {
        return Optional.ofNullable(index.get(id));
    }

    @Override
    public Optional<ObjectNode> recording(String id) throws IOException {
        SessionSummary s = index.get(id);
        if (s == null) {
            return Optional.empty();
        }
        Path file = recordingPath(id, s.startedAt());
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        JsonNode n = Json.mapper().readTree(file.toFile());
        return n instanceof ObjectNode o ? Optional.of(o) : Optional.empty();
    }

    @Override
    public SessionPage list(SessionQuery q, Predicate<SessionSummary> visible) {
        NavigableMap<String, SessionSummary> view = index.descendingMap();
        if (q.after() != null) {
            view = view.tailMap(q.after(), false);
        }
        List<SessionSummary> out = new ArrayList<>();
        String next = null;
        for (Map.Entry<String, SessionSummary> e : view.entrySet()) {
            SessionSummary s = e.getValue();
            if (q.from() != null && s.startedAt().isBefore(q.from())) {
                break;
            }
            if (q.to() != null && !s.startedAt().isBefore(q.to())) {
                continue;
            }
            if ((q.principal() != null && !q.principal().equals(s.principal()))
                    || (q.status() != null && q.status() != s.status())
                    || (q.decision() != null && !q.decision().equals(s.decision()))
                    || !visible.test(s)) {
                continue;
            }
            if (out.size() == q.limit()) {
                next = out.get(out.size() - 1).id();
                break;
            }
            out.add(s);
        }
        return new SessionPage(out, next);
    }

    int size() {
        return index.size();
    }

    private static ObjectNode toJson(SessionSummary s) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("id", s.id());
        n.put("principal", s.principal());
        n.put("status", s.status().name());
        n.put("decision", s.decision());
        n.put("route", s.route());
        n.put("model", s.model());
        n.put("http_status", s.httpStatus());
        ArrayNode ids = n.putArray("policy_ids");
        s.policyIds().forEach(ids::add);
        n.put("started_at", s.startedAt().toString());
        n.put("ended_at", s.endedAt() == null ? null : s.endedAt().toString());
        return n;
    }

    private static SessionSummary fromJson(JsonNode n) {
        List<String> ids = new ArrayList<>();
        n.path("policy_ids").forEach(i -> ids.add(i.asText()));
        return new SessionSummary(n.get("id").asText(), text(n, "principal"),
                SessionStatus.valueOf(n.get("status").asText()), text(n, "decision"), text(n, "route"),
                text(n, "model"), n.path("http_status").asInt(), ids, Instant.parse(n.get("started_at").asText()),
                n.hasNonNull("ended_at") ? Instant.parse(n.get("ended_at").asText()) : null);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
