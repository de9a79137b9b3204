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
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * Local sessions: the recordings of a UTC day (by the session's start) are lines of one
 * append-only file, {@code <data-dir>/sessions/yyyy/mm/dd/recordings.jsonl}, and an embedded
 * index, an append-only {@code index.jsonl} (the last line for an id wins) replayed into memory at
 * start-up. The index line written by {@code complete} names where the recording is:
 * {@code rec_file} (relative to the data dir), {@code rec_offset} and {@code rec_length} (bytes of
 * the JSON, without its newline), so that {@link #recording} reads exactly those bytes. A session
 * recorded more than once (held for approval, then finished) has a line for each; the index names
 * the last. A crash
 * leaves the IN_FLIGHT line written before the forward, never a gap. Data dirs from before this
 * layout ({@code sessions/yyyy/mm/dd/<id>.json}, index lines without {@code rec_*}) are still read.
 *
 * <p>Durability (group commit): every recording and index line is handed to the operating system
 * (one write(2) each) before {@code begin}/{@code complete} return, but none is fsynced on the
 * request path. A committer thread fsyncs the day files written since its last pass, the folders of
 * new day files, and the index every {@value #COMMIT_INTERVAL_MS} ms: two or three fsyncs a pass,
 * whatever the request rate. So if the process dies (crash, kill -9) nothing that was recorded is
 * lost, because the kernel holds it; if the machine loses power or the kernel crashes, at most the
 * last {@value #COMMIT_INTERVAL_MS} ms of sessions (plus the pass in progress) may be missing or
 * cut short. A torn last index line is skipped at load; a torn last recording line is closed with a
 * newline before the next append; an index line whose recording did not reach the disk reads as
 * "no recording" (logged). {@link #close()} and a JVM shutdown hook run a final commit, so a clean
 * shutdown loses nothing.
 *
 * <p>Limits: one process writes a data dir. At most one day file is open for writing (the day of
 * the last recording; sessions that cross midnight switch it back and forth); readers are opened
 * per call. Every summary and recording location stays in memory.
 */
final class FileSessionStore implements SessionStore, AutoCloseable {
    /** How often written sessions are fsynced: the window a power loss can lose. */
    static final long COMMIT_INTERVAL_MS = 100;
    /** The name of a day's recordings file, in its {@code sessions/yyyy/mm/dd} folder. */
    static final String RECORDINGS_FILE = "recordings.jsonl";
    private static final Logger LOG = Logger.getLogger(FileSessionStore.class.getName());
    private static final long SECONDS_PER_DAY = 86_400;
    private final Path dir;
    private final Path sessionsDir;
    private final Path indexFile;
    private final NavigableMap<String, SessionSummary> index = new ConcurrentSkipListMap<>();
    /** Where each recording written in the current layout is; absent for old-layout sessions. */
    private final Map<String, Location> locations = new ConcurrentHashMap<>();
    /** One String per day file, not one per session: the locations stay small in memory. */
    private final Map<String, String> dayFileNames = new ConcurrentHashMap<>();
    private final Object appendLock = new Object();
    private final OutputStream indexOut;
    private final FileChannel indexChannel;
    /** Guards the day writer, {@link #dirtyDays}, {@link #newFolders} and {@link #checkedDays}. */
    private final Object recordingLock = new Object();
    /** The only day file open for writing; volatile so the committer can fsync through it. */
    private volatile DayWriter writer;
    /** Day files written since the last commit. */
    private Set<Path> dirtyDays = new HashSet<>();
    /** Folders that gained an entry (a day file or folder) since the last commit. */
    private Set<Path> newFolders = new HashSet<>();
    /** Day files whose end this process has checked (or written whole lines to) since opening them. */
    private final Set<Path> checkedDays = new HashSet<>();
    private final Object commitLock = new Object();
    private final ScheduledExecutorService committer;
    private final Thread shutdownHook;
    private volatile boolean closed;

    /** A recording: {@code length} bytes of JSON at {@code offset} of {@code file} (relative to the data dir). */
    private record Location(String file, long offset, int length) {
    }

    /** The append channel of one day file, and the size it has after our writes. */
    private static final class DayWriter {
        final long epochDay;
        final String relative;
        final Path file;
        final FileChannel channel;
        long size;

        DayWriter(long epochDay, String relative, Path file, FileChannel channel, long size) {
            this.epochDay = epochDay;
            this.relative = relative;
            this.file = file;
            this.channel = channel;
            this.size = size;
        }
    }

    private FileSessionStore(Path dir) throws IOException {
        this.dir = dir;
        this.sessionsDir = dir.resolve("sessions");
        this.indexFile = dir.resolve("index.jsonl");
        Files.createDirectories(sessionsDir);
        if (Files.exists(indexFile)) {
            load();
        }
        this.indexChannel = FileChannel.open(indexFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
        this.indexOut = Channels.newOutputStream(indexChannel);
        if (endsTorn(indexFile, indexChannel.size())) {
            // otherwise the next line would be glued to the torn one and lost at the next load
            LOG.warning("session index: " + indexFile + " ended in a torn line; new lines start after it");
            indexOut.write('\n');
        }
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
     * Fsyncs the day files written since the last pass (and the folders of new ones), then the
     * index. Runs on the committer thread, at shutdown and on {@link #close()}.
     */
    void commit() throws IOException {
        synchronized (commitLock) {
            Set<Path> days;
            Set<Path> folders;
            synchronized (recordingLock) {
                days = dirtyDays.isEmpty() ? Set.of() : dirtyDays;
                folders = newFolders.isEmpty() ? Set.of() : newFolders;
                if (!days.isEmpty()) {
                    dirtyDays = new HashSet<>();
                }
                if (!folders.isEmpty()) {
                    newFolders = new HashSet<>();
                }
            }
            for (Path day : days) {
                try {
                    forceDayFile(day);
                } catch (IOException | RuntimeException e) {
                    synchronized (recordingLock) {
                        dirtyDays.addAll(days);
                        newFolders.addAll(folders);
                    }
                    throw e;
                }
            }
            for (Path folder : folders) {
                forceFolder(folder);
            }
            if (indexChannel.isOpen()) {
                indexChannel.force(false);
            }
        }
    }

    private void forceDayFile(Path day) throws IOException {
        DayWriter w = writer;
        if (w != null && w.file.equals(day)) {
            try {
                w.channel.force(false);
                return;
            } catch (ClosedChannelException switched) {
                // the writer moved to another day meanwhile: sync the file by its path
            }
        }
        try (FileChannel channel = FileChannel.open(day, StandardOpenOption.READ)) {
            channel.force(false);
        } catch (NoSuchFileException gone) {
            // removed by hand: nothing left to sync
        }
    }

    private void commitQuietly() {
        try {
            commit();
        } catch (IOException | RuntimeException e) {
            LOG.warning("session store: commit failed (" + e.getClass().getSimpleName() + "); retried next pass");
        }
    }

    /** Some file systems cannot open a folder for fsync; then the new entry's durability is the kernel's. */
    private static void forceFolder(Path folder) {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            // best effort
        }
    }

    /** Commits everything written, then stops the committer and closes the files. Idempotent. */
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
        synchronized (recordingLock) {
            closeWriter();
        }
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
                    JsonNode n = Json.mapper().readTree(line);
                    SessionSummary s = fromJson(n);
                    Location at = locationFromJson(n);
                    index.put(s.id(), s);
                    if (at != null) {
                        locations.put(s.id(), at);
                    }
                } catch (IOException | RuntimeException e) {
                    bad++;
                }
            }
        }
        if (bad > 0) {
            LOG.warning("session index: skipped " + bad + " unreadable line(s) in " + indexFile);
        }
    }

    /** True if a non-empty file does not end with a newline: its last line was cut short. */
    private static boolean endsTorn(Path file, long size) throws IOException {
        if (size == 0) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            channel.read(last, size - 1);
            return last.get(0) != '\n';
        }
    }

    @Override
    public void begin(SessionSummary inFlight) throws IOException {
        if (index.putIfAbsent(inFlight.id(), inFlight) != null) {
            throw new IllegalStateException("session id already exists: " + inFlight.id());
        }
        append(inFlight, null);
    }

    @Override
    public void complete(SessionSummary summary, ObjectNode recording) throws IOException {
        byte[] json = Json.mapper().writeValueAsBytes(recording);
        byte[] line = Arrays.copyOf(json, json.length + 1);
        line[json.length] = '\n';
        // the recording first: an index line never names bytes that were not handed to the kernel
        Location at = appendRecording(summary.startedAt(), line);
        locations.put(summary.id(), at);
        index.put(summary.id(), summary);
        append(summary, at);
    }

    private Location appendRecording(Instant startedAt, byte[] line) throws IOException {
        long epochDay = Math.floorDiv(startedAt.getEpochSecond(), SECONDS_PER_DAY);
        synchronized (recordingLock) {
            if (closed) {
                throw new ClosedChannelException();
            }
            DayWriter w = writerFor(epochDay);
            long offset = w.size;
            ByteBuffer buf = ByteBuffer.wrap(line);
            try {
                // one write(2) for a regular file; the loop only covers a short write
                while (buf.hasRemaining()) {
                    w.channel.write(buf);
                }
            } catch (IOException e) {
                // part of the line may be on disk: reopen (and close the torn line) on the next append
                checkedDays.remove(w.file);
                closeWriter();
                throw e;
            }
            w.size += line.length;
            dirtyDays.add(w.file);
            return new Location(w.relative, offset, line.length - 1);
        }
    }

    /** The append channel of the given day, switching from the current one if needed. Under the lock. */
    private DayWriter writerFor(long epochDay) throws IOException {
        DayWriter current = writer;
        if (current != null && current.epochDay == epochDay) {
            return current;
        }
        closeWriter();
        LocalDate day = LocalDate.ofEpochDay(epochDay);
        String relative = String.format("sessions/%04d/%02d/%02d/%s", day.getYear(), day.getMonthValue(),
                day.getDayOfMonth(), RECORDINGS_FILE);
        Path file = dir.resolve(relative);
        Path folder = file.getParent();
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder);
            for (Path f = folder; f != null && !f.equals(dir); f = f.getParent()) {
                newFolders.add(f);
            }
        }
        if (!Files.exists(file)) {
            newFolders.add(folder);
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        try {
            long size = channel.size();
            // checked once per file: sessions crossing midnight may switch days back and forth
            if (checkedDays.add(file) && endsTorn(file, size)) {
                LOG.warning("session recordings: " + file + " ended in a torn line; new recordings start after it");
                channel.write(ByteBuffer.wrap(new byte[] {'\n'}));
                size++;
                dirtyDays.add(file);
            }
            writer = new DayWriter(epochDay, relative, file, channel, size);
            return writer;
        } catch (IOException | RuntimeException e) {
            checkedDays.remove(file);
            channel.close();
            throw e;
        }
    }

    /** Under the lock. What it wrote stays in {@link #dirtyDays}: the committer syncs it by path. */
    private void closeWriter() {
        DayWriter w = writer;
        writer = null;
        if (w != null) {
            try {
                w.channel.close();
            } catch (IOException e) {
                LOG.warning("session recordings: closing " + w.file + " failed (" + e.getClass().getSimpleName() + ")");
            }
        }
    }

    private void append(SessionSummary s, Location at) throws IOException {
        byte[] line = (Json.mapper().writeValueAsString(toJson(s, at)) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (appendLock) {
            // One write(2) per line, straight to the kernel: a process crash cannot lose it.
            indexOut.write(line);
        }
    }

    /** Where the previous layout kept a session's recording: one file per session. */
    private Path legacyRecordingPath(String id, Instant startedAt) {
        ZonedDateTime t = startedAt.atZone(ZoneOffset.UTC);
        return sessionsDir.resolve(String.format("%04d/%02d/%02d", t.getYear(), t.getMonthValue(),
                t.getDayOfMonth())).resolve(id + ".json");
    }

    @Override
    public Optional<SessionSummary> summary(String id) {
        return Optional.ofNullable(index.get(id));
    }

    /**
     * The session's recording, or empty if there is none, or if the bytes the index names are not
     * this session's whole recording (a power loss, or a file edited by hand; logged).
     */
    @Override
    public Optional<ObjectNode> recording(String id) throws IOException {
        Location at = locations.get(id);
        if (at != null) {
            return read(id, at);
        }
        SessionSummary s = index.get(id);
        if (s == null) {
            return Optional.empty();
        }
        Path file = legacyRecordingPath(id, s.startedAt());
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            JsonNode n = Json.mapper().readTree(file.toFile());
            return n instanceof ObjectNode o ? Optional.of(o) : Optional.empty();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            LOG.warning("session " + id + ": the recording " + file + " is not valid JSON; treated as missing");
            return Optional.empty();
        }
    }

    /** Reads the line and the newlines around it, in one positional read, and checks it is {@code id}'s. */
    private Optional<ObjectNode> read(String id, Location at) throws IOException {
        Path file = dir.resolve(at.file());
        long from = at.offset() == 0 ? 0 : at.offset() - 1;
        int start = (int) (at.offset() - from);
        ByteBuffer buf;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            // checked before allocating: a damaged index must not ask for gigabytes
            if (at.offset() + at.length() + 1 > channel.size()) {
                return unreadable(id, at, "the file ends before it");
            }
            buf = ByteBuffer.allocate(start + at.length() + 1);
            while (buf.hasRemaining() && channel.read(buf, from + buf.position()) >= 0) {
                // a positional read may return fewer bytes than asked
            }
        } catch (NoSuchFileException e) {
            return unreadable(id, at, "the file is missing");
        }
        byte[] bytes = buf.array();
        if (buf.hasRemaining()) {
            return unreadable(id, at, "the file ends before it");
        }
        if ((start == 1 && bytes[0] != '\n') || bytes[bytes.length - 1] != '\n') {
            return unreadable(id, at, "it is not a whole line");
        }
        JsonNode n;
        try {
            n = Json.mapper().readTree(bytes, start, at.length());
        } catch (IOException e) {
            return unreadable(id, at, "it is not valid JSON");
        }
        if (!(n instanceof ObjectNode o)) {
            return unreadable(id, at, "it is not a JSON object");
        }
        JsonNode sessionId = o.get("session_id");
        if (sessionId != null && !id.equals(sessionId.asText())) {
            return unreadable(id, at, "it belongs to another session");
        }
        return Optional.of(o);
    }

    private static Optional<ObjectNode> unreadable(String id, Location at, String why) {
        LOG.warning("session " + id + ": no recording at " + at.file() + " offset " + at.offset() + " length "
                + at.length() + ": " + why + " (torn by a power loss, or edited)");
        return Optional.empty();
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

    private static ObjectNode toJson(SessionSummary s, Location at) {
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
        if (at != null) {
            n.put("rec_file", at.file());
            n.put("rec_offset", at.offset());
            n.put("rec_length", at.length());
        }
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

    /** The recording's place, from an index line; null for a begin line or an old-layout line. */
    private Location locationFromJson(JsonNode n) {
        if (!n.hasNonNull("rec_file") || !n.hasNonNull("rec_offset") || !n.hasNonNull("rec_length")) {
            return null;
        }
        String file = n.get("rec_file").asText();
        long offset = n.get("rec_offset").asLong(-1);
        int length = n.get("rec_length").asInt(-1);
        if (offset < 0 || length < 0 || !dir.resolve(file).normalize().startsWith(sessionsDir.normalize())) {
            throw new IllegalArgumentException("bad recording location");
        }
        return new Location(internDayFile(file), offset, length);
    }

    private String internDayFile(String file) {
        return dayFileNames.computeIfAbsent(file, f -> f);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
