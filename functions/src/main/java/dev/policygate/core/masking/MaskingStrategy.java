package dev.policygate.core.masking;

/**
 * How a masked entity is rendered. {@code REDACT}: {@code [EMAIL]}. {@code PARTIAL}: the class and
 * at most the last four characters, {@code [CREDIT_CARD ****1111]}. {@code HASH}: a keyed
 * pseudonym, {@code [EMAIL:3f9a0c1d2e4b]}, equal for equal values under the same key so that a
 * reader can correlate mentions without seeing them.
 */
public enum MaskingStrategy {
    REDACT,
    PARTIAL,
    HASH
}
