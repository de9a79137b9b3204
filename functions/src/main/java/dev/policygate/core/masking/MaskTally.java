package dev.policygate.core.masking;

import dev.policygate.core.detect.DataClass;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Per-operation state: the reader's unmask decisions (asked once per class) and the classes
 * detected and masked so far. Not thread-safe; one per message, request or stream.
 */
final class MaskTally {
    private final UnmaskDecider decider;
    private final Map<DataClass, Boolean> decisions = new HashMap<>();
    final Set<DataClass> detected = new LinkedHashSet<>();
    final Set<DataClass> masked = new LinkedHashSet<>();
    /** Classes masked in an entity that ran across two strings of a request. */
    final Set<DataClass> maskedAcrossParts = new LinkedHashSet<>();

    MaskTally(UnmaskDecider decider) {
        this.decider = decider == null ? UnmaskDecider.MASK_ALL : decider;
    }

    /** Records the detection and answers whether it must be masked. */
    boolean mustMask(DataClass dataClass) {
        detected.add(dataClass);
        Boolean mayRead = decisions.get(dataClass);
        if (mayRead == null) {
            try {
                mayRead = decider.mayReadUnmasked(dataClass);
            } catch (RuntimeException e) {
                // a decider that cannot answer must not unmask
                mayRead = false;
            }
            decisions.put(dataClass, mayRead);
        }
        if (!mayRead) {
            masked.add(dataClass);
        }
        return !mayRead;
    }

    MaskReport report() {
        return new MaskReport(detected, masked, maskedAcrossParts);
    }
}
