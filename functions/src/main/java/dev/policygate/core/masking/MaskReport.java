package dev.policygate.core.masking;

import dev.policygate.core.detect.DataClass;
import java.util.Set;

/**
 * What masking a whole message found: the classes detected, the subset that was replaced, and the
 * classes replaced in an entity that ran from one string of a request into the next (each piece
 * masked in its own string; see {@code ReplyMasker.maskRequestMessages}).
 */
public record MaskReport(Set<DataClass> detected, Set<DataClass> masked, Set<DataClass> maskedAcrossParts) {
    public MaskReport {
        detected = Set.copyOf(detected);
        masked = Set.copyOf(masked);
        maskedAcrossParts = Set.copyOf(maskedAcrossParts);
    }

    public MaskReport(Set<DataClass> detected, Set<DataClass> masked) {
        this(detected, masked, Set.of());
    }
}
