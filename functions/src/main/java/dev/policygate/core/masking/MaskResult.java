package dev.policygate.core.masking;

import dev.policygate.core.detect.DataClass;
import java.util.Objects;
import java.util.Set;

/**
 * A masked text with the classes found in it and the subset that was replaced (the others the
 * reader may see unmasked).
 */
public record MaskResult(String text, Set<DataClass> detected, Set<DataClass> masked) {
    public MaskResult {
        Objects.requireNonNull(text, "text");
        detected = Set.copyOf(detected);
        masked = Set.copyOf(masked);
    }
}
