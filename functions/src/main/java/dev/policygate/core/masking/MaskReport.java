package dev.policygate.core.masking;

import dev.policygate.core.detect.DataClass;
import java.util.Set;

/** What masking a whole message found: the classes detected, and the subset that was replaced. */
public record MaskReport(Set<DataClass> detected, Set<DataClass> masked) {
    public MaskReport {
        detected = Set.copyOf(detected);
        masked = Set.copyOf(masked);
    }
}
