package dev.policygate.core.auth;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class ApiKeysTest {
    @Test
    void newKey_carries256RandomBits_inBase64Url() {
        String key = ApiKeys.newKey();

        assertThat(key).startsWith("pgk_");
        assertThat(Base64.getUrlDecoder().decode(key.substring(4))).hasSize(32);
        assertThat(ApiKeys.looksLikeKey(key)).isTrue();
    }

    @Test
    void newKey_isUnique() {
        Set<String> keys = new HashSet<>();
        IntStream.range(0, 1000).forEach(i -> keys.add(ApiKeys.newKey()));

        assertThat(keys).hasSize(1000);
    }

    @Test
    void hash_isStableLowercaseHexSha256() {
        assertThat(ApiKeys.hash("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        String key = ApiKeys.newKey();
        assertThat(ApiKeys.hash(key)).isEqualTo(ApiKeys.hash(key));
    }

    @Test
    void keyId_isShortPrefixOfTheHash_andNotTheKey() {
        String key = ApiKeys.newKey();
        String hash = ApiKeys.hash(key);

        assertThat(ApiKeys.keyId(hash)).isEqualTo("key_" + hash.substring(0, 12));
        assertThat(ApiKeys.keyId(hash)).doesNotContain(key.substring(4, 16));
        assertThatIllegalArgumentException().isThrownBy(() -> ApiKeys.keyId("not-a-hash"));
    }

    @Test
    void looksLikeKey_refusesOtherShapes() {
        assertThat(ApiKeys.looksLikeKey(null)).isFalse();
        assertThat(ApiKeys.looksLikeKey("sk-ant-123")).isFalse();
        assertThat(ApiKeys.looksLikeKey("pgk_short")).isFalse();
        assertThat(ApiKeys.looksLikeKey("pgk_" + "A".repeat(42) + "=")).isFalse();
    }

    @Test
    void apiKeyRecord_validatesPrincipalGroupsAndHash() {
        String hash = ApiKeys.hash(ApiKeys.newKey());
        Instant now = Instant.now();

        assertThat(new ApiKeyRecord(ApiKeys.keyId(hash), hash, "svc:ci-bot", Set.of("eng", "ops+1"), null, now, false)
                .groups()).containsExactlyInAnyOrder("eng", "ops+1");
        assertThatIllegalArgumentException().isThrownBy(() ->
                new ApiKeyRecord("key_1", hash, "bad principal", Set.of(), null, now, false));
        assertThatIllegalArgumentException().isThrownBy(() ->
                new ApiKeyRecord("key_1", hash, "p".repeat(129), Set.of(), null, now, false));
        assertThatIllegalArgumentException().isThrownBy(() ->
                new ApiKeyRecord("key_1", hash, "alice", Set.of("a\"b"), null, now, false));
        assertThatIllegalArgumentException().isThrownBy(() ->
                new ApiKeyRecord("key_1", hash.toUpperCase(), "alice", Set.of(), null, now, false));
        assertThatIllegalArgumentException().isThrownBy(() ->
                new ApiKeyRecord("key_1", hash, "alice", Set.of(), "not-an-email", now, false));
    }
}
