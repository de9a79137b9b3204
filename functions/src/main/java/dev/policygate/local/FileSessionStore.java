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

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * Local sessions: the recordings of a UTC day (by the session's start) are lines of one
 * append-only file, {@code <data-dir>/sessions/yyyy/mm/dd/recordings.jsonl}, and an embedded
 * index, an append-only {@code index.jsonl} (the last line for an id wins) replayed at start-up.
 * The index line written by {@code complete} names where the recording is:
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
 * whatever the request rate, and none while nothing is written. So if the process dies (crash,
 * kill -9) nothing that was recorded is lost, because the kernel holds it; if the machine loses
 * power or the kernel crashes, at most the
 * last {@value #COMMIT_INTERVAL_MS} ms of sessions (plus the pass in progress) may be missing or
 * cut short. A torn last index line is skipped at load; a torn last recording line is closed with a
 * newline before the next append; an index line whose recording did not reach the disk reads as
 * "no recording" (logged). {@link #close()} and a JVM shutdown hook run a final commit, so a clean
 * shutdown loses nothing.
 *
 * <p>Memory is bounded. Only the newest sessions (the greatest ids, which are time-ordered) stay in
 * memory with their summary and recording location: at most {@value #MAX_RESIDENT} by default (a
 * constructor parameter), about half a kilobyte each. When there are more, a background pass evicts
 * the oldest down to 90 % of the limit (at least {@value #MIN_EVICTION_BATCH} of them); a writer
 * that finds the limit exceeded by 10 % runs the pass itself, so there are never more than 110 %
 * (plus the writes in progress). Requests never wait for a pass, except that one. Each evicted
 * session costs 34 bytes of heap (plus about 60 bytes a batch): its id and the offset of its
 * latest index line, in {@link EvictedSessions}. Its summary, recording and place in {@link #list}
 * are then read from that line, one positional read each; a later line for it (completed after it
 * was evicted) moves the offset. Start-up replays the index within the same bound, evicting as it
 * goes. Ids not of the 26-character form stay in memory.
 *
 * <p>Limits: one process writes a data dir. At most one day file is open for writing (the day of
 * the last recording; sessions that cross midnight switch it back and forth); readers are opened
 * per call. Listing past the resident sessions reads one index line per session it passes.
 */
final class FileSessionStore implements SessionStore, AutoCloseable {
    /** How often written sessions are fsynced: the window a power loss can lose. */
    static final long COMMIT_INTERVAL_MS = 100;
    /** The name of a day's recordings file, in its {@code sessions/yyyy/mm/dd} folder. */
    static final String RECORDINGS_FILE = "recordings.jsonl";
    /** How many sessions stay in memory by default: the newest. */
    static final int MAX_RESIDENT = 50_000;
    /** The fewest sessions a pass evicts (for small limits): a chunk's fixed cost stays under a byte a session. */
    static final int MIN_EVICTION_BATCH = 64;
    private static final Logger LOG = Logger.getLogger(FileSessionStore.class.getName());
    private static final long SECONDS_PER_DAY = 86_400;
    /** The line offset of an entry whose index line {@code begin} is still writing. */
    private static final long UNWRITTEN = -1;
    /** An index line longer than this is damage, not a line. */
    private static final int MAX_INDEX_LINE = 1 << 24;
    private final Path dir;
    private final Path sessionsDir;
    private final Path indexFile;
    private final int maxResident;
    /** Where an eviction pass stops: 90 % of the limit (or {@link #MIN_EVICTION_BATCH} below it). */
    private final int evictTarget;
    /** Beyond this (110 % of the limit) a writer evicts itself instead of leaving it to the background. */
    private final int hardLimit;
    /** The resident sessions, the newest; the others are in {@link #evicted}. */
    private final ConcurrentSkipListMap<String, Entry> index = new ConcurrentSkipListMap<>();
    /** The size of {@link #index} (the map's own size() walks it). */
    private final AtomicInteger residentCount = new AtomicInteger();
    private final EvictedSessions evicted = new EvictedSessions();
    /** One eviction pass at a time. */
    private final ReentrantLock evictLock = new ReentrantLock();
    private final AtomicBoolean evictionQueued = new AtomicBoolean();
    /** Runs eviction passes off the request path; its thread exists only while there is work. */
    private final ExecutorService evictor;
    /** One String per day file, not one per session: the locations stay small in memory. */
    private final Map<String, String> dayFileNames = new ConcurrentHashMap<>();
    private final Object appendLock = new Object();
    private final FileChannel indexChannel;
    /** Where the next index line starts (the file's size after our writes); -1 after a failed write. Under appendLock. */
    private long indexEnd;
    /** Set after each index write, cleared by the committer before it fsyncs: an idle store syncs nothing. */
    private volatile boolean indexDirty;
    /** How many times the index was fsynced (for tests). Under commitLock. */
    private long indexSyncs;
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

    /**
     * A resident session: its summary, where its recording is (null before {@code complete}, and
     * for the old layout), and where its latest index line starts ({@link #UNWRITTEN} while
     * {@code begin} writes it). Compared by identity, so that a conditional remove or replace
     * fails if another thread changed the entry.
     */
    private static final class Entry {
        final SessionSummary summary;
        final Location recording;
        final long line;

        Entry(SessionSummary summary, Location recording, long line) {
            this.summary = summary;
            this.recording = recording;
            this.line = line;
        }
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

    private FileSessionStore(Path dir, int maxResident) throws IOException {
        if (maxResident < 1) {
            throw new IllegalArgumentException("maxResident must be at least 1");
        }
        this.dir = dir;
        this.sessionsDir = dir.resolve("sessions");
        this.indexFile = dir.resolve("index.jsonl");
        this.maxResident = maxResident;
        this.evictTarget = Math.max(0, maxResident - Math.max(maxResident / 10, MIN_EVICTION_BATCH));
        this.hardLimit = (int) Math.min(Integer.MAX_VALUE, (long) maxResident + Math.max(1, maxResident / 10));
        this.evictor = new ThreadPoolExecutor(0, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "policygate-session-evict");
            t.setDaemon(true);
            return t;
        });
        Files.createDirectories(sessionsDir);
        if (Files.exists(indexFile)) {
            load();
        }
        this.indexChannel = FileChannel.open(indexFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
        if (endsTorn(indexFile, indexChannel.size())) {
            // otherwise the next line would be glued to the torn one and lost at the next load
            LOG.warning("session index: " + indexFile + " ended in a torn line; new lines start after it");
            writeFully(indexChannel, new byte[] {'\n'});
        }
        this.indexEnd = indexChannel.size();
        // the first pass syncs what opening may have created or closed
        this.indexDirty = true;
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
            if (indexDirty && indexChannel.isOpen()) {
                // cleared first: a line written while the fsync runs is synced by the next pass
                indexDirty = false;
                try {
                    indexChannel.force(false);
                    indexSyncs++;
                } catch (IOException | RuntimeException e) {
                    indexDirty = true;
                    throw e;
                }
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
        evictor.shutdown();
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
            indexChannel.close();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it finds everything committed
        }
    }

    static FileSessionStore open(Path dataDir) throws IOException {
        return new FileSessionStore(dataDir, MAX_RESIDENT);
    }

    /** A store that keeps at most about {@code maxResident} sessions in memory (tests use small limits). */
    static FileSessionStore open(Path dataDir, int maxResident) throws IOException {
        return new FileSessionStore(dataDir, maxResident);
    }

    /** Replays the index, evicting as it goes: memory stays within the bound however long the index is. */
    private void load() throws IOException {
        int bad = 0;
        try (InputStream in = Files.newInputStream(indexFile)) {
            byte[] buf = new byte[1 << 16];
            // a line that spans reads is gathered here
            byte[] line = new byte[1024];
            int length = 0;
            long lineStart = 0;
            long bufStart = 0;
            int read;
            while ((read = in.read(buf)) > 0) {
                int from = 0;
                for (int i = 0; i < read; i++) {
                    if (buf[i] != '\n') {
                        continue;
                    }
                    if (length == 0) {
                        bad += replay(buf, from, i - from, lineStart);
                    } else {
                        line = gather(line, length, buf, from, i - from);
                        bad += replay(line, 0, length + i - from, lineStart);
                        length = 0;
                    }
                    from = i + 1;
                    lineStart = bufStart + from;
                }
                line = gather(line, length, buf, from, read - from);
                length += read - from;
                bufStart += read;
            }
            // a last line without its newline: torn, unless only the newline is missing
            bad += replay(line, 0, length, lineStart);
        }
        if (bad > 0) {
            LOG.warning("session index: skipped " + bad + " unreadable line(s) in " + indexFile);
        }
    }

    /** Applies one index line that starts at {@code offset} of the file; 1 if it cannot be read, else 0. */
    private int replay(byte[] bytes, int from, int length, long offset) {
        boolean blank = true;
        for (int i = from; i < from + length && blank; i++) {
            blank = Character.isWhitespace(bytes[i]);
        }
        if (blank) {
            return 0;
        }
        try {
            JsonNode n = Json.mapper().readTree(bytes, from, length);
            put(new Entry(fromJson(n), locationFromJson(n), offset));
            if (residentCount.get() > maxResident) {
                evictOldest();
            }
            return 0;
        } catch (IOException | RuntimeException e) {
            return 1;
        }
    }

    private static byte[] gather(byte[] line, int length, byte[] buf, int from, int count) {
        byte[] out = length + count <= line.length ? line
                : Arrays.copyOf(line, Math.max(line.length * 2, length + count));
        System.arraycopy(buf, from, out, length, count);
        return out;
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
        String id = inFlight.id();
        Entry writing = new Entry(inFlight, null, UNWRITTEN);
        if (index.putIfAbsent(id, writing) != null) {
            throw new IllegalStateException("session id already exists: " + id);
        }
        // checked after the insert: an eviction publishes before it removes, so a race cannot hide the id
        if (evicted.contains(id)) {
            index.remove(id, writing);
            throw new IllegalStateException("session id already exists: " + id);
        }
        residentCount.incrementAndGet();
        long line;
        try {
            line = append(inFlight, null);
        } catch (IOException | RuntimeException e) {
            // nothing of it reached the index: keep nothing of it in memory either
            if (index.remove(id, writing)) {
                residentCount.decrementAndGet();
            }
            throw e;
        }
        put(new Entry(inFlight, null, line));
        afterInsert();
    }

    @Override
    public void complete(SessionSummary summary, ObjectNode recording) throws IOException {
        byte[] json = Json.mapper().writeValueAsBytes(recording);
        byte[] line = Arrays.copyOf(json, json.length + 1);
        line[json.length] = '\n';
        // the recording first: an index line never names bytes that were not handed to the kernel
        Location at = appendRecording(summary.startedAt(), line);
        put(new Entry(summary, at, append(summary, at)));
        afterInsert();
    }

    /**
     * Makes {@code e} its session's entry, unless a later index line of it is known already: in
     * memory if the session is resident or new, else as the offset in {@link #evicted}. Lock-free;
     * see {@link #evictOldest()} for the other side.
     */
    private void put(Entry e) {
        String id = e.summary.id();
        while (true) {
            Entry current = index.get(id);
            if (current != null) {
                if (current.line > e.line || index.replace(id, current, e)) {
                    return;
                }
            } else if (evicted.raise(id, e.line)) {
                return;
            } else if (index.putIfAbsent(id, e) == null) {
                residentCount.incrementAndGet();
                return;
            }
        }
    }

    /** After a session was added: start an eviction pass if over the limit, or run one if far over. */
    private void afterInsert() {
        int resident = residentCount.get();
        if (resident <= maxResident) {
            return;
        }
        if (resident > hardLimit) {
            evictPass();
        } else if (evictionQueued.compareAndSet(false, true)) {
            try {
                evictor.execute(() -> {
                    evictionQueued.set(false);
                    evictPass();
                });
            } catch (RejectedExecutionException closing) {
                evictionQueued.set(false);
            }
        }
    }

    /** Evicts the oldest sessions down to {@link #evictTarget}, if over the limit. One pass at a time. */
    private void evictPass() {
        evictLock.lock();
        try {
            if (residentCount.get() > maxResident) {
                evictOldest();
            }
        } finally {
            evictLock.unlock();
        }
    }

    /**
     * Moves the oldest resident sessions to {@link #evicted}, holding no lock that requests take.
     * The batch is published first and each entry removed only if unchanged, so a reader that no
     * longer finds a session in memory finds it in the directory. If a writer replaced an entry
     * meanwhile, its newer line is raised into the directory before the entry is removed; a writer
     * that comes after the removal raises it itself ({@link #put}).
     */
    private void evictOldest() {
        int excess = residentCount.get() - evictTarget;
        if (excess <= 0) {
            return;
        }
        String[] ids = new String[excess];
        Entry[] victims = new Entry[excess];
        long[] lines = new long[excess];
        int n = 0;
        for (Iterator<Entry> it = index.values().iterator(); it.hasNext() && n < excess; ) {
            Entry e = it.next();
            if (e.line != UNWRITTEN && EvictedSessions.fits(e.summary.id())) {
                ids[n] = e.summary.id();
                victims[n] = e;
                lines[n] = e.line;
                n++;
            }
        }
        if (n == 0) {
            return;
        }
        evicted.add(ids, lines, n);
        for (int i = 0; i < n; i++) {
            Entry e = victims[i];
            while (!index.remove(ids[i], e)) {
                e = index.get(ids[i]);
                if (e == null) {
                    break;
                }
                evicted.raise(ids[i], e.line);
            }
            if (e != null) {
                residentCount.decrementAndGet();
            }
        }
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

    /** Appends the index line of {@code s}; returns the offset where it starts. */
    private long append(SessionSummary s, Location at) throws IOException {
        byte[] line = (Json.mapper().writeValueAsString(toJson(s, at)) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (appendLock) {
            if (indexEnd < 0) {
                // a write failed part-way: find the end again, and close a torn line
                long size = indexChannel.size();
                if (endsTorn(indexFile, size)) {
                    writeFully(indexChannel, new byte[] {'\n'});
                    size++;
                }
                indexEnd = size;
            }
            long offset = indexEnd;
            try {
                // One write(2) per line, straight to the kernel: a process crash cannot lose it.
                writeFully(indexChannel, line);
            } catch (IOException e) {
                indexEnd = -1;
                throw e;
            }
            indexEnd += line.length;
            indexDirty = true;
            return offset;
        }
    }

    private static void writeFully(FileChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            channel.write(buf);
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
        Entry e = index.get(id);
        if (e != null) {
            return Optional.of(e.summary);
        }
        long line = evicted.offsetOf(id);
        if (line < 0) {
            return Optional.empty();
        }
        try (IndexLines lines = new IndexLines()) {
            return Optional.ofNullable(lines.summary(id, line));
        } catch (IOException e2) {
            throw new UncheckedIOException("session " + id + ": the index could not be read", e2);
        }
    }

    /**
     * The session's recording, or empty if there is none, or if the bytes the index names are not
     * this session's whole recording (a power loss, or a file edited by hand; logged).
     */
    @Override
    public Optional<ObjectNode> recording(String id) throws IOException {
        Entry e = index.get(id);
        if (e == null) {
            long line = evicted.offsetOf(id);
            if (line < 0) {
                return Optional.empty();
            }
            try (IndexLines lines = new IndexLines()) {
                JsonNode n = lines.line(id, line);
                if (n == null) {
                    return Optional.empty();
                }
                try {
                    e = new Entry(fromJson(n), locationFromJson(n), line);
                } catch (RuntimeException bad) {
                    LOG.warning("session " + id + ": its index line at offset " + line + " cannot be read");
                    return Optional.empty();
                }
            }
        }
        if (e.recording != null) {
            return read(id, e.recording);
        }
        SessionSummary s = e.summary;
        Path file = legacyRecordingPath(id, s.startedAt());
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            JsonNode n = Json.mapper().readTree(file.toFile());
            return n instanceof ObjectNode o ? Optional.of(o) : Optional.empty();
        } catch (com.fasterxml.jackson.core.JsonProcessingException notJson) {
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

    /**
     * Newest first: the resident sessions and the evicted ones (read from their index lines) merged
     * by id. An eviction during the walk publishes a new chunk array; the walk then resumes in it
     * below the last id it took, so that sessions that left memory behind the walk's back are not
     * skipped, and an id seen twice is taken once.
     */
    @Override
    public SessionPage list(SessionQuery q, Predicate<SessionSummary> visible) {
        try (IndexLines lines = new IndexLines()) {
            return list(q, visible, lines);
        } catch (IOException e) {
            throw new UncheckedIOException("session index: " + indexFile + " could not be read", e);
        }
    }

    private SessionPage list(SessionQuery q, Predicate<SessionSummary> visible, IndexLines lines) throws IOException {
        ConcurrentNavigableMap<String, Entry> view = index.descendingMap();
        if (q.after() != null) {
            view = view.tailMap(q.after(), false);
        }
        Iterator<Entry> resident = view.values().iterator();
        Entry r = resident.hasNext() ? resident.next() : null;
        EvictedSessions.Chunk[] chunks = evicted.snapshot();
        EvictedSessions.Cursor d = new EvictedSessions.Cursor(chunks, q.after());
        String last = null;
        List<SessionSummary> out = new ArrayList<>();
        String next = null;
        while (true) {
            if (evicted.snapshot() != chunks) {
                chunks = evicted.snapshot();
                d = new EvictedSessions.Cursor(chunks, last != null ? last : q.after());
            }
            String dId = d.id();
            if (r == null && dId == null) {
                break;
            }
            String id;
            SessionSummary s;
            if (dId != null && (r == null || dId.compareTo(r.summary.id()) > 0)) {
                id = dId;
                s = last != null && id.compareTo(last) >= 0 ? null : lines.summary(id, d.offset());
                d.advance();
            } else {
                id = r.summary.id();
                s = r.summary;
                if (id.equals(dId)) {
                    // evicted while listed: the same session
                    d.advance();
                }
                r = resident.hasNext() ? resident.next() : null;
            }
            if (last != null && id.compareTo(last) >= 0) {
                continue;
            }
            last = id;
            if (s == null) {
                continue;
            }
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

    /** Every session, resident or evicted (while no eviction pass runs). */
    int size() {
        return residentCount.get() + evicted.count();
    }

    /** How many sessions are in memory with their summary. */
    int residentCount() {
        return residentCount.get();
    }

    boolean isResident(String id) {
        return index.containsKey(id);
    }

    /** How many times the committer (or a close) fsynced the index. */
    long indexSyncs() {
        synchronized (commitLock) {
            return indexSyncs;
        }
    }

    /** How many sessions were evicted: kept as an id and an index-line offset. */
    int evictedCount() {
        return evicted.count();
    }

    /** The heap the evicted sessions take (see {@link EvictedSessions#bytes()}). */
    long directoryBytes() {
        return evicted.bytes();
    }

    /**
     * Reads index lines of evicted sessions by offset: one open file for a whole listing. Checks
     * that the bytes are a whole line and belong to the session; otherwise logs and answers null.
     */
    private final class IndexLines implements AutoCloseable {
        private FileChannel channel;
        private byte[] buf = new byte[1024];

        SessionSummary summary(String id, long offset) throws IOException {
            JsonNode n = line(id, offset);
            if (n == null) {
                return null;
            }
            try {
                return fromJson(n);
            } catch (RuntimeException e) {
                LOG.warning("session " + id + ": its index line at offset " + offset + " cannot be read");
                return null;
            }
        }

        /** Reads the line and the newline before it; it ends at the first newline after. */
        JsonNode line(String id, long offset) throws IOException {
            if (channel == null) {
                channel = FileChannel.open(indexFile, StandardOpenOption.READ);
            }
            long from = offset == 0 ? 0 : offset - 1;
            int start = (int) (offset - from);
            int filled = 0;
            int end = -1;
            while (end < 0) {
                if (filled == buf.length) {
                    if (buf.length >= MAX_INDEX_LINE) {
                        break;
                    }
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
                int read = channel.read(ByteBuffer.wrap(buf, filled, buf.length - filled), from + filled);
                if (read < 0) {
                    break;
                }
                for (int i = Math.max(start, filled); i < filled + read; i++) {
                    if (buf[i] == '\n') {
                        end = i;
                        break;
                    }
                }
                filled += read;
            }
            if (end < 0 || (start == 1 && buf[0] != '\n')) {
                LOG.warning("session " + id + ": no whole index line at offset " + offset + " of " + indexFile);
                return null;
            }
            JsonNode n;
            try {
                n = Json.mapper().readTree(buf, start, end - start);
            } catch (IOException e) {
                LOG.warning("session " + id + ": the index line at offset " + offset + " is not valid JSON");
                return null;
            }
            if (n == null || !id.equals(n.path("id").asText())) {
                LOG.warning("session " + id + ": the index line at offset " + offset + " belongs to another session");
                return null;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            if (channel != null) {
                channel.close();
            }
        }
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
