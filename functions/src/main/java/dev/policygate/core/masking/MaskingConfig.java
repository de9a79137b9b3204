package dev.policygate.core.masking;

import dev.policygate.core.detect.DataClass;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Which {@link MaskingStrategy} renders each data class, and the key for {@code HASH} pseudonyms.
 * Validates itself: class names follow {@link DataClass} rules, and a key of at least 16 bytes is
 * required as soon as any class uses {@code HASH}. The key is copied in and out and never
 * printed.
 *
 * @param defaultStrategy strategy for classes without an entry in {@code perClass}
 * @param perClass        strategy per data class name, e.g. {@code "CREDIT_CARD" -> PARTIAL}
 * @param hashKey         HMAC-SHA256 key for {@code HASH}; may be null when {@code HASH} is unused
 */
public record MaskingConfig(MaskingStrategy defaultStrategy, Map<String, MaskingStrategy> perClass, byte[] hashKey) {
    static final int MIN_HASH_KEY_BYTES = 16;

    public MaskingConfig {
        Objects.requireNonNull(defaultStrategy, "defaultStrategy");
        Map<String, MaskingStrategy> copy = new HashMap<>();
        if (perClass != null) {
            perClass.forEach((name, strategy) -> {
                if (strategy == null) {
                    throw new IllegalArgumentException("masking strategy for " + name + " is missing");
                }
                new DataClass(name, DataClass.Kind.PII); // validates the name
                copy.put(name, strategy);
            });
        }
        perClass = Map.copyOf(copy);
        boolean usesHash = defaultStrategy == MaskingStrategy.HASH || perClass.containsValue(MaskingStrategy.HASH);
        if (usesHash && (hashKey == null || hashKey.length < MIN_HASH_KEY_BYTES)) {
            throw new IllegalArgumentException(
                    "HASH masking needs a hash key of at least " + MIN_HASH_KEY_BYTES + " bytes");
        }
        hashKey = hashKey == null ? null : hashKey.clone();
    }

    /** REDACT for every class, PARTIAL for CREDIT_CARD and PHONE (the last digits help support). */
    public static MaskingConfig defaults(byte[] hashKey) {
        return new MaskingConfig(MaskingStrategy.REDACT, Map.of(
                DataClass.CREDIT_CARD.name(), MaskingStrategy.PARTIAL,
                DataClass.PHONE.name(), MaskingStrategy.PARTIAL), hashKey);
    }

    public MaskingStrategy strategyFor(DataClass dataClass) {
        return perClass.getOrDefault(dataClass.name(), defaultStrategy);
    }

    @Override
    public byte[] hashKey() {
        return hashKey == null ? null : hashKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MaskingConfig other
                && defaultStrategy == other.defaultStrategy
                && perClass.equals(other.perClass)
                && Arrays.equals(hashKey, other.hashKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(defaultStrategy, perClass, Arrays.hashCode(hashKey));
    }

    @Override
    public String toString() {
        return "MaskingConfig[defaultStrategy=" + defaultStrategy + ", perClass=" + perClass
                + ", hashKey=" + (hashKey == null ? "none" : "<" + hashKey.length + " bytes>") + "]";
    }
}
