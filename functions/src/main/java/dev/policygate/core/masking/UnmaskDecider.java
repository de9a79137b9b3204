package dev.policygate.core.masking;

import dev.policygate.core.detect.DataClass;

/**
 * Answers whether the reader may see a data class unmasked (Cedar {@code read_unmasked}).
 * Callers memoise per request; implementations must fail closed (return false on error).
 */
@FunctionalInterface
public interface UnmaskDecider {
    /** Masks everything: used for recordings, which never hold raw sensitive data. */
    UnmaskDecider MASK_ALL = dataClass -> false;

    boolean mayReadUnmasked(DataClass dataClass);
}
