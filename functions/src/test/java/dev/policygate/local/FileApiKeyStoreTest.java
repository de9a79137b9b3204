package dev.policygate.local;

import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FileApiKeyStoreTest {
    @TempDir
    Path dataDir;

    @Test
    void findByHash_seesKeyWrittenByAnotherInstance_withoutRestart() {
        // GIVEN a running store that has already answered a lookup
        FileApiKeyStore server = FileApiKeyStore.open(dataDir);
        assertThat(server.list()).isEmpty();

        // WHEN a second instance (the CLI in another process) adds a key
        String key = ApiKeys.newKey();
        FileApiKeyStore cli = FileApiKeyStore.open(dataDir);
        cli.put(record(key, "svc-ci"));

        // THEN the running store finds it at once
        assertThat(server.findByHash(ApiKeys.hash(key))).map(ApiKeyRecord::principal).contains("svc-ci");
    }

    @Test
    void findByHash_seesRevocationByAnotherInstance_withinTheRecheckInterval() throws Exception {
        // GIVEN a key known to the running store
        String key = ApiKeys.newKey();
        FileApiKeyStore server = FileApiKeyStore.open(dataDir);
        server.put(record(key, "svc-ci"));
        assertThat(server.findByHash(ApiKeys.hash(key))).hasValueSatisfying(r -> assertThat(r.revoked()).isFalse());

        // WHEN another instance revokes it
        assertThat(FileApiKeyStore.open(dataDir).revoke(ApiKeys.keyId(ApiKeys.hash(key)))).isTrue();
        Thread.sleep(FileApiKeyStore.RECHECK_MILLIS + 50);

        // THEN the running store sees the revocation
        assertThat(server.findByHash(ApiKeys.hash(key))).hasValueSatisfying(r -> assertThat(r.revoked()).isTrue());
    }

    @Test
    void put_createsFileWithOwnerOnlyPermissions() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));

        // GIVEN / WHEN a key is stored
        FileApiKeyStore store = FileApiKeyStore.open(dataDir);
        store.put(record(ApiKeys.newKey(), "svc-ci"));

        // THEN only the owner may read or write the file
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file()))).isEqualTo("rw-------");
    }

    @Test
    void put_neverWritesTheRawKey() throws IOException {
        // GIVEN / WHEN a key is stored
        String key = ApiKeys.newKey();
        FileApiKeyStore store = FileApiKeyStore.open(dataDir);
        store.put(record(key, "svc-ci"));

        // THEN the file holds its hash but not the key, nor its secret part
        String content = Files.readString(store.file());
        assertThat(content).contains(ApiKeys.hash(key)).doesNotContain(key).doesNotContain(key.substring(4));
        try (var files = Files.list(dataDir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("no temporary files left behind").noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void roundTrip_preservesEveryField_andListsOldestFirst() {
        FileApiKeyStore store = FileApiKeyStore.open(dataDir);
        String older = ApiKeys.newKey();
        String newer = ApiKeys.newKey();
        Instant t = Instant.parse("2025-01-01T00:00:00Z");
        ApiKeyRecord second = new ApiKeyRecord(ApiKeys.keyId(ApiKeys.hash(newer)), ApiKeys.hash(newer), "bob",
                Set.of("eng", "ops"), "bob@example.com", t.plus(1, ChronoUnit.DAYS), false);
        ApiKeyRecord first = new ApiKeyRecord(ApiKeys.keyId(ApiKeys.hash(older)), ApiKeys.hash(older), "alice",
                Set.of(), null, t, true);
        store.put(second);
        store.put(first);

        assertThat(FileApiKeyStore.open(dataDir).list()).containsExactly(first, second);
    }

    @Test
    void revoke_returnsFalse_forUnknownKeyId() {
        assertThat(FileApiKeyStore.open(dataDir).revoke("key_000000000000")).isFalse();
    }

    @Test
    void put_refusesSameKeyIdWithAnotherHash() {
        FileApiKeyStore store = FileApiKeyStore.open(dataDir);
        String a = ApiKeys.hash(ApiKeys.newKey());
        String b = ApiKeys.hash(ApiKeys.newKey());
        store.put(new ApiKeyRecord("key_same", a, "alice", Set.of(), null, Instant.now(), false));

        assertThatIllegalStateException().isThrownBy(() ->
                store.put(new ApiKeyRecord("key_same", b, "bob", Set.of(), null, Instant.now(), false)));
    }

    @Test
    void findByHash_failsClosed_whenFileIsCorrupt() throws IOException {
        // GIVEN a store whose file is replaced by garbage
        FileApiKeyStore store = FileApiKeyStore.open(dataDir);
        store.put(record(ApiKeys.newKey(), "svc-ci"));
        Files.writeString(store.file(), "{\"keys\": [ {\"keyId\": 1} ]}");

        // WHEN / THEN lookups refuse to answer rather than trust stale data
        assertThatThrownBy(() -> store.findByHash(ApiKeys.hash(ApiKeys.newKey())))
                .isInstanceOf(IllegalStateException.class);
    }

    private static ApiKeyRecord record(String key, String principal) {
        String hash = ApiKeys.hash(key);
        return new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, Set.of("eng"), null, Instant.now(), false);
    }
}
