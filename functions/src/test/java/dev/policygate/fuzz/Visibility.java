package dev.policygate.fuzz;

import dev.policygate.core.detect.Detection;
import dev.policygate.core.detect.DetectorSet;

import java.util.List;

/** The "no detected entity stays visible" property, shared by the masking fuzz tests. */
final class Visibility {
    private Visibility() {
    }

    /**
     * Fails when a value the detectors found in {@code original} still appears in {@code masked}.
     * A value that also occurs in {@code original} outside every detection (the detectors are
     * context-sensitive, so "4111" inside a longer undetected run is not an entity) is skipped:
     * masking cannot be expected to hide what was never detected there.
     */
    static void assertNoDetectedValueVisible(String original, String masked, String where) {
        List<Detection> found = DetectorSet.builtIns().scan(original);
        if (found.isEmpty()) {
            return;
        }
        char[] residue = original.toCharArray();
        for (Detection d : found) {
            for (int i = d.start(); i < d.end(); i++) {
                residue[i] = '\u0000';
            }
        }
        String rest = new String(residue);
        for (Detection d : found) {
            String value = original.substring(d.start(), d.end());
            if (value.length() >= 6 && !rest.contains(value) && masked.contains(value)) {
                throw new AssertionError(where + ": detected " + d.dataClass().name() + " still visible after masking: "
                        + printable(value) + "\noriginal: " + printable(original) + "\nmasked:   " + printable(masked));
            }
        }
    }

    static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7f) {
                out.appendCodePoint(cp);
            } else {
                out.append(String.format("\\u{%x}", cp));
            }
        });
        return out.toString();
    }
}
