package dev.policygate.bench;

import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeyStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Gateway key records in memory, by hash; stands in for the DynamoDB key store. */
final class InMemoryApiKeyStore implements ApiKeyStore {
    private final Map<String, ApiKeyRecord> byHash = new ConcurrentHashMap<>();

    @Override
    public Optional<ApiKeyRecord> findByHash(String sha256) {
        return Optional.ofNullable(byHash.get(sha256));
    }

    @Override
    public void put(ApiKeyRecord record) {
        byHash.put(record.sha256(), record);
    }

    @Override
    public boolean revoke(String keyId) {
        for (ApiKeyRecord r : byHash.values()) {
            if (r.keyId().equals(keyId)) {
                byHash.put(r.sha256(), r.asRevoked());
                return true;
            }
        }
        return false;
    }

    @Override
    public List<ApiKeyRecord> list() {
        List<ApiKeyRecord> all = new ArrayList<>(byHash.values());
        all.sort(Comparator.comparing(ApiKeyRecord::createdAt));
        return all;
    }
}
