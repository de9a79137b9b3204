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
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
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
import java.util.HashSet;
import java.util.Queue;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * Local sessions: one JSON recording per session under
 * {@code <data-dir>/sessions/yyyy/mm/dd/<id>.json}, and an embedded index: an append-only
 * {@code index.jsonl} (the last line for an id wins) replayed into memory at start-up.
 * A crash leaves the IN_FLIGHT line written before the forward, never a gap.
 *
 * <p>Durability (group commit): every index line and recording is handed to the operating system
 * before {@code begin}/{@code complete} return, but none is fsynced on the request path. A
 * committer thread fsyncs the index, the recordings written since its last pass and their folders
 * every {@value #COMMIT_INTERVAL_MS} ms. So if the process dies (crash, kill -9) nothing that was
 * recorded is lost, because the kernel holds it; if the machine loses power or the kernel crashes,
 * at most the last {@value #COMMIT_INTERVAL_MS} ms of sessions (plus the pass in progress) may be
 * missing or, for the index, cut short (a torn last line is skipped at load). {@link #close()} and a
 * JVM shutdown hook run a final commit, so a clean shutdown loses nothing.
 */
final class FileSessionStore implements SessionStore, AutoCloseable {
    /** How often written sessions are fsynced: the window a power loss can lose. */
    static final long COMMIT_INTERVAL_MS = 100;
    private static final Logger LOG = Logger.getLogger(FileSessionStore.class.getName());
    private final Path dir;
    private final Path indexFile;
    private final NavigableMap<String, SessionSummary> index = new ConcurrentSkipListMap<>();
    private final Object appendLock = new Object();
    private final OutputStream indexOut;
    private final FileChannel indexChannel;
    /** Recordings written since the last commit, to fsync (with their folders) in the next one. */
    private final Queue<Path> unsynced = new ConcurrentLinkedQueue<>();
    /** Recording folders created by this process (days it has recorded). */
    private final Set<Path> knownFolders = ConcurrentHashMap.newKeySet();
    private final Object commitLock = new Object();
    private final ScheduledExecutorService committer;
    private final Thread shutdownHook;
    private volatile boolean closed;

    private FileSessionStore(Path dir) throws IOException {
        this.dir = dir;
        this.indexFile = dir.resolve("index.jsonl");
        Files.createDirectories(dir.resolve("sessions"));
        if (Files.exists(indexFile)) {
            load();
        }
        this.indexChannel = FileChannel.open(indexFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
        this.indexOut = Channels.newOutputStream(indexChannel);
        this.committer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "policygate-session-commit");
            t.setDaemon(true);
            return t;
        });
        committer.scheduleWithFixedDelay(this::commitQuietly, COMMIT_INTERVAL_MS, COMMIT_INTERVAL_MS,
                TimeUnit.MILLISECONDS);
        this.shutdownHook = new Thread(this::commitQuietly, "policygate-session-final-commit");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Fsyncs the index and every recording written so far (and their folders, so that the renames
     * last). Runs on the committer thread, at shutdown and on {@link #close()}.
     */
    void commit() throws IOException {
        synchronized (commitLock) {
            Set<Path> folders = new HashSet<>();
            for (Path file; (file = unsynced.poll()) != null; ) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    channel.force(true);
                } catch (java.nio.file.NoSuchFileException gone) {
                    continue;
                }
                folders.add(file.getParent());
            }
            for (Path folder : folders) {
                forceFolder(folder);
            }
            if (indexChannel.isOpen()) {
                indexChannel.force(false);
            }
        }
    }

    private void commitQuietly() {
        try {
            commit();
        } catch (IOException | RuntimeException e) {
            LOG.warning("session store: commit failed (" + e.getClass().getSimpleName() + "); retried next pass");
        }
    }

    /** Some file systems cannot open a folder for fsync; then the rename's durability is the kernel's. */
    private static void forceFolder(Path folder) {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            // best effort
        }
    }

    /** Commits everything written, then stops the committer and closes the index. Idempotent. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        committer.shutdown();
        try {
            committer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        commit();
        synchronized (appendLock) {
            indexOut.close();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it finds everything committed
        }
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
        // one folder a day: skip the stat calls of createDirectories once it is known to exist
        if (!knownFolders.contains(file.getParent())) {
            Files.createDirectories(file.getParent());
            knownFolders.add(file.getParent());
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, Json.mapper().writeValueAsBytes(recording));
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        unsynced.add(file);
        index.put(summary.id(), summary);
        append(summary);
    }

    private void append(SessionSummary s) throws IOException {
        byte[] line = (Json.mapper().writeValueAsString(toJson(s)) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (appendLock) {
            // One write(2) per line, straight to the kernel: a process crash cannot lose it.
            indexOut.write(line);
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
