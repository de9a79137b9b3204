package dev.policygate.aws.dynamodb;

import dev.policygate.aws.AwsClients;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DynamoApiKeyStoreTest extends DynaliteTest {
    static final Instant CREATED = Instant.parse("2026-11-25T08:30:00.000000120Z");

    String table;
    DynamoApiKeyStore store;

    @BeforeEach
    void freshTable() {
        table = DynamoTestTables.newTable(client);
        store = new DynamoApiKeyStore(client, table);
    }

    static ApiKeyRecord record(String principal, Instant createdAt) {
        String hash = ApiKeys.hash(ApiKeys.newKey());
        return new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, Set.of("eng", "ml-platform"),
                principal + "@example.com", createdAt, false);
    }

    @Test
    void put_thenFindByHash_returnsTheSameRecord() {
        // GIVEN a stored key record
        ApiKeyRecord r = record("alice", CREATED);
        store.put(r);

        // WHEN it is looked up by its hash, THEN every field survived the round trip
        assertThat(store.findByHash(r.sha256())).contains(r);
    }

    @Test
    void findByHash_returnsEmpty_forAnUnknownOrMalformedHash() {
        assertThat(store.findByHash(ApiKeys.hash("pgk_unknown"))).isEmpty();
        assertThat(store.findByHash("not-a-hash")).isEmpty();
    }

    @Test
    void aRecordWithoutEmailOrGroups_roundTrips() {
        String hash = ApiKeys.hash(ApiKeys.newKey());
        ApiKeyRecord bare = new ApiKeyRecord(ApiKeys.keyId(hash), hash, "ci-bot", Set.of(), null, CREATED, false);
        store.put(bare);
        assertThat(store.findByHash(hash)).contains(bare);
    }

    @Test
    void revoke_marksTheKeyRevoked_andLookupsStillFindIt() {
        // GIVEN two keys
        ApiKeyRecord alice = record("alice", CREATED);
        ApiKeyRecord bob = record("bob", CREATED);
        store.put(alice);
        store.put(bob);

        // WHEN alice's key is revoked by its key id
        boolean revoked = store.revoke(alice.keyId());

        // THEN lookups return it revoked (the authenticator refuses it), and bob's key is untouched
        assertThat(revoked).isTrue();
        assertThat(store.findByHash(alice.sha256())).contains(alice.asRevoked());
        assertThat(store.findByHash(bob.sha256())).contains(bob);
    }

    @Test
    void revoke_returnsFalse_forAnUnknownKeyId() {
        store.put(record("alice", CREATED));
        assertThat(store.revoke("key_000000000000")).isFalse();
    }

    @Test
    void aKeyCreatedOrRevokedByAnotherInstance_countsAtOnce() {
        // GIVEN a second gateway instance with its own client on the same table
        try (DynamoDbClient otherClient = AwsClients.dynamo(AwsClients.Target.emulator(dynalite.endpoint()))) {
            DynamoApiKeyStore otherInstance = new DynamoApiKeyStore(otherClient, table);
            ApiKeyRecord r = record("alice", CREATED);

            // WHEN the admin instance creates a key, THEN this instance finds it at once
            otherInstance.put(r);
            assertThat(store.findByHash(r.sha256())).contains(r);

            // WHEN the admin instance revokes it, THEN this instance sees the revocation at once
            otherInstance.revoke(r.keyId());
            assertThat(store.findByHash(r.sha256())).get().extracting(ApiKeyRecord::revoked).isEqualTo(true);
        }
    }

    @Test
    void put_throwsIllegalState_whenTheHashIsStoredUnderAnotherKeyId() {
        // GIVEN a stored key
        ApiKeyRecord r = record("alice", CREATED);
        store.put(r);
        ApiKeyRecord sameHash = new ApiKeyRecord("key_other", r.sha256(), "mallory", Set.of(), null, CREATED, false);

        // WHEN the same hash is put under another key id, THEN it is refused and nothing changes
        assertThatThrownBy(() -> store.put(sameHash)).isInstanceOf(IllegalStateException.class);
        assertThat(store.findByHash(r.sha256())).contains(r);
    }

    @Test
    void put_throwsIllegalState_whenTheKeyIdBelongsToAnotherHash() {
        // GIVEN a stored key
        ApiKeyRecord r = record("alice", CREATED);
        store.put(r);
        String otherHash = ApiKeys.hash(ApiKeys.newKey());
        ApiKeyRecord sameId = new ApiKeyRecord(r.keyId(), otherHash, "mallory", Set.of(), null, CREATED, false);

        // WHEN another hash is put under its key id, THEN it is refused
        assertThatThrownBy(() -> store.put(sameId)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(r.keyId());
        assertThat(store.findByHash(otherHash)).isEmpty();
    }

    @Test
    void put_replacesTheRecord_withTheSameKeyIdAndHash() {
        ApiKeyRecord r = record("alice", CREATED);
        store.put(r);
        ApiKeyRecord moved = new ApiKeyRecord(r.keyId(), r.sha256(), "alice", Set.of("admins"), null, CREATED, false);
        store.put(moved);
        assertThat(store.findByHash(r.sha256())).contains(moved);
        assertThat(store.list()).containsExactly(moved);
    }

    @Test
    void list_returnsEveryKey_revokedIncluded_oldestFirst_andNoSessions() throws IOException {
        // GIVEN three keys created in a shuffled order, one revoked, and a session in the same table
        ApiKeyRecord second = record("bob", CREATED.plusSeconds(60));
        ApiKeyRecord first = record("alice", CREATED);
        ApiKeyRecord third = record("carol", CREATED.plusSeconds(120));
        store.put(second);
        store.put(first);
        store.put(third);
        store.revoke(second.keyId());
        new DynamoSessionIndex(client, table, Duration.ofDays(30)).begin(new SessionSummary(
                new SessionIds(Clock.systemUTC()).next(), "alice", SessionStatus.IN_FLIGHT, "ALLOW", null, null, 0,
                List.of(), CREATED, null));

        // WHEN the keys are listed, THEN all three come back oldest first
        assertThat(store.list()).containsExactly(first, second.asRevoked(), third);
    }
}
