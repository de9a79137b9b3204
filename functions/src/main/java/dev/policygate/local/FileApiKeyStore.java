package dev.policygate.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeyStore;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gateway key records in {@code <dataDir>/keys.json}, as {@code {"keys":[...]}}: hashes only, never a key.
 *
 * <p>Writes replace the file atomically and create it owner-only ({@code rw-------}) where the
 * file system is POSIX. Writers, in this process or another (the {@code keys} CLI), serialise on an
 * exclusive lock on {@code keys.json.lock}. Readers see other processes' changes without a restart:
 * a lookup miss, and any call at most every {@value #RECHECK_MILLIS} ms, re-reads the file when its
 * identity, modification time or size changed. A file that cannot be read or parsed makes calls
 * throw rather than answer from stale data. Thread-safe.
 */
public final class FileApiKeyStore implements ApiKeyStore {
    static final String FILE_NAME = "keys.json";
    static final long RECHECK_MILLIS = 500;
    static final long MAX_FILE_BYTES = 16L * 1024 * 1024;
    static final int MAX_KEYS = 20_000;

    private static final Set<StandardOpenOption> LOCK_FILE_OPTIONS =
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE);

    /** One lock per file within this JVM: FileLock alone throws when two channels of one JVM overlap. */
    private static final Map<Path, ReentrantLock> WRITE_LOCKS = new ConcurrentHashMap<>();

    private final Path file;
    private final Path lockFile;
    private final Clock clock;
    private final ReentrantLock writeLock;
    private final Object readMonitor = new Object();
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    private volatile boolean checked;
    private volatile long lastCheckMillis;

    FileApiKeyStore(Path dataDir, Clock clock) {
        Path dir = dataDir.toAbsolutePath().normalize();
        this.file = dir.resolve(FILE_NAME);
        this.lockFile = dir.resolve(FILE_NAME + ".lock");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.writeLock = WRITE_LOCKS.computeIfAbsent(file, f -> new ReentrantLock());
    }

    /** Opens (creating the directory owner-only if needed) the store in {@code dataDir} and reads it. */
    public static FileApiKeyStore open(Path dataDir) {
        Objects.requireNonNull(dataDir, "dataDir");
        try {
            if (!Files.isDirectory(dataDir)) {
                Files.createDirectories(dataDir, ownerOnly("rwx------"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data directory " + dataDir, e);
        }
        FileApiKeyStore store = new FileApiKeyStore(dataDir, Clock.systemUTC());
        store.refresh(true);
        return store;
    }

    @Override
    public Optional<ApiKeyRecord> findByHash(String sha256) {
        if (!ApiKeys.isSha256Hex(sha256)) {
            return Optional.empty();
        }
        refresh(false);
        ApiKeyRecord found = snapshot.byHash.get(sha256);
        if (found == null) {
            // A miss may be a key just created by another process: look at the file now.
            refresh(true);
            found = snapshot.byHash.get(sha256);
        }
        return Optional.ofNullable(found);
    }

    @Override
    public void put(ApiKeyRecord record) {
        Objects.requireNonNull(record, "record");
        update(records -> {
            ApiKeyRecord sameId = records.get(record.keyId());
            if (sameId != null && !sameId.sha256().equals(record.sha256())) {
                throw new IllegalStateException("key id " + record.keyId() + " already belongs to another key");
            }
            for (ApiKeyRecord r : records.values()) {
                if (r.sha256().equals(record.sha256()) && !r.keyId().equals(record.keyId())) {
                    throw new IllegalStateException("this key is already stored as " + r.keyId());
                }
            }
            if (sameId == null && records.size() >= MAX_KEYS) {
                throw new IllegalStateException("the store holds the maximum of " + MAX_KEYS + " keys");
            }
            records.put(record.keyId(), record);
            return true;
        });
    }

    @Override
    public boolean revoke(String keyId) {
        return update(records -> {
            ApiKeyRecord r = records.get(keyId);
            if (r == null) {
                return false;
            }
            records.put(keyId, r.asRevoked());
            return true;
        });
    }

    @Override
    public List<ApiKeyRecord> list() {
        refresh(false);
        return snapshot.sorted();
    }

    /** The file the records live in. */
    public Path file() {
        return file;
    }

    private interface Mutation {
        /** Changes {@code records} in place; returns the caller's answer. */
        boolean apply(Map<String, ApiKeyRecord> records);
    }

    private boolean update(Mutation mutation) {
        writeLock.lock();
        try (FileChannel lockChannel = FileChannel.open(lockFile, LOCK_FILE_OPTIONS, ownerOnly("rw-------"))) {
            lockChannel.lock(); // released when the channel closes
            // Re-read under the lock: another process may have written since our last look.
            refresh(true);
            Map<String, ApiKeyRecord> records = new LinkedHashMap<>();
            for (ApiKeyRecord r : snapshot.sorted()) {
                records.put(r.keyId(), r);
            }
            boolean answer = mutation.apply(records);
            if (answer) {
                write(new ArrayList<>(records.values()));
                refresh(true);
            }
            return answer;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file, e);
        } finally {
            writeLock.unlock();
        }
    }


    private void write(List<ApiKeyRecord> records) throws IOException {
        ObjectNode root = Json.mapper().createObjectNode();
        ArrayNode array = root.putArray("keys");
        records.stream().sorted(Snapshot.ORDER).forEach(r -> array.add(toJson(r)));
        byte[] bytes = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        Path temp = Files.createTempFile(file.getParent(), FILE_NAME + ".", ".tmp", ownerOnly("rw-------"));
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the data directory does not support atomic replacement", e);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Re-reads the file if it changed; {@code force} skips the {@value #RECHECK_MILLIS} ms throttle. */
    private void refresh(boolean force) {
        long now = clock.millis();
        if (!force && checked && now - lastCheckMillis < RECHECK_MILLIS) {
            return;
        }
        synchronized (readMonitor) {
            FileVersion version = FileVersion.of(file);
            if (!version.equals(snapshot.version)) {
                snapshot = version.exists() ? read(version) : new Snapshot(version, Map.of());
            }
            lastCheckMillis = now;
            checked = true;
        }
    }

    private Snapshot read(FileVersion version) {
        if (version.size() > MAX_FILE_BYTES) {
            throw new IllegalStateException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
        }
        JsonNode root;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes((int) MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new IllegalStateException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            root = Json.mapper().readTree(bytes);
        } catch (NoSuchFileException e) {
            // Replaced between stat and open: the next call sees the new file.
            return new Snapshot(FileVersion.ABSENT, Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        JsonNode keys = root == null ? null : root.get("keys");
        if (keys == null || !keys.isArray()) {
            throw new IllegalStateException(file + " has no \"keys\" array");
        }
        if (keys.size() > MAX_KEYS) {
            throw new IllegalStateException(file + " holds more than " + MAX_KEYS + " keys");
        }
        Map<String, ApiKeyRecord> byHash = new LinkedHashMap<>();
        for (JsonNode node : keys) {
            ApiKeyRecord r = fromJson(node);
            if (byHash.put(r.sha256(), r) != null) {
                throw new IllegalStateException(file + " holds the same key twice");
            }
        }
        return new Snapshot(version, Map.copyOf(byHash));
    }

    private static ObjectNode toJson(ApiKeyRecord r) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("keyId", r.keyId());
        node.put("sha256", r.sha256());
        node.put("principal", r.principal());
        ArrayNode groups = node.putArray("groups");
        new TreeSet<>(r.groups()).forEach(groups::add);
        if (r.email() != null) {
            node.put("email", r.email());
        }
        node.put("createdAt", r.createdAt().toString());
        node.put("revoked", r.revoked());
        return node;
    }

    private ApiKeyRecord fromJson(JsonNode node) {
        try {
            List<String> groups = new ArrayList<>();
            JsonNode g = node.get("groups");
            if (g != null && !g.isNull()) {
                if (!g.isArray()) {
                    throw new IllegalArgumentException("groups must be an array");
                }
                g.forEach(v -> groups.add(requireText(v, "groups")));
            }
            JsonNode email = node.get("email");
            JsonNode revoked = node.get("revoked");
            if (revoked != null && !revoked.isBoolean()) {
                throw new IllegalArgumentException("revoked must be a boolean");
            }
            return new ApiKeyRecord(
                    requireText(node.get("keyId"), "keyId"),
                    requireText(node.get("sha256"), "sha256"),
                    requireText(node.get("principal"), "principal"),
                    Set.copyOf(groups),
                    email == null || email.isNull() ? null : requireText(email, "email"),
                    Instant.parse(requireText(node.get("createdAt"), "createdAt")),
                    revoked != null && revoked.booleanValue());
        } catch (IllegalArgumentException | DateTimeParseException | NullPointerException e) {
            throw new IllegalStateException(file + " holds an invalid key record: " + e.getMessage());
        }
    }

    private static String requireText(JsonNode node, String field) {
        if (node == null || !node.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string");
        }
        return node.textValue();
    }

    private static FileAttribute<?>[] ownerOnly(String permissions) {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))};
        }
        return new FileAttribute<?>[0];
    }

    /** What identifies one written version of the file: each atomic replace makes a new inode. */
    private record FileVersion(boolean exists, Object fileKey, long lastModifiedNanos, long size) {
        static final FileVersion ABSENT = new FileVersion(false, null, 0, 0);

        static FileVersion of(Path file) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!a.isRegularFile()) {
                    throw new IllegalStateException(file + " is not a regular file");
                }
                return new FileVersion(true, a.fileKey(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.size());
            } catch (NoSuchFileException e) {
                return ABSENT;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot stat " + file, e);
            }
        }
    }

    private record Snapshot(FileVersion version, Map<String, ApiKeyRecord> byHash) {
        static final Snapshot EMPTY = new Snapshot(null, Map.of());
        static final Comparator<ApiKeyRecord> ORDER =
                Comparator.comparing(ApiKeyRecord::createdAt).thenComparing(ApiKeyRecord::keyId);

        List<ApiKeyRecord> sorted() {
            return byHash.values().stream().sorted(ORDER).toList();
        }
    }
}
