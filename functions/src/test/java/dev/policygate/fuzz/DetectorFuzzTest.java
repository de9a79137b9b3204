package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.Detection;
import dev.policygate.core.detect.DetectorSet;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes every built-in detector (they run as one pass, so one scan exercises all of them) and
 * custom patterns. Properties: detections are in bounds, sorted and disjoint, and the same on
 * every call; a valid entity set apart by blank lines is always covered by a detection, whatever
 * fuzz surrounds it; the open-private-key probe stays in bounds; a custom pattern either is
 * refused with {@link IllegalArgumentException} or scans without failing.
 */
class DetectorFuzzTest {
    private static final DetectorSet BUILT_INS = DetectorSet.builtIns();

    @FuzzTest
    void scan_returnsSortedDisjointDetections_inBounds(@NotNull String text) {
        List<Detection> found = BUILT_INS.scan(text);
        int last = 0;
        for (Detection d : found) {
            assertTrue(d.start() >= last && d.end() <= text.length(), "overlapping or out of bounds: " + found);
            last = d.end();
        }
        assertEquals(found, BUILT_INS.scan(text), "scan is not deterministic");
        int pending = BUILT_INS.pendingPrivateKeyStart(text, 0);
        assertTrue(pending >= -1 && pending <= text.length(), "pending key start out of bounds");
    }

    @FuzzTest
    void scan_findsAValidEntity_whateverSurroundsIt(FuzzedDataProvider data) {
        String entity = data.pickValue(FuzzSupport.ENTITIES);
        String before = data.consumeString(data.consumeInt(0, 40));
        String after = data.consumeRemainingAsString();
        String text = before + "\n\n" + entity + "\n\n" + after;
        // "aws_secret_access_key=<value>": the label is context, only the value is the entity
        int start = before.length() + 2 + entity.indexOf('=') + 1;
        int end = before.length() + 2 + entity.length();
        List<Detection> found = BUILT_INS.scan(text);
        boolean covered = found.stream().anyMatch(d -> d.start() <= start && d.end() >= end);
        assertTrue(covered, "entity " + Visibility.printable(entity) + " not covered in "
                + Visibility.printable(text) + ": " + found);
    }

    @FuzzTest
    void customPatterns_areRefusedOrScanSafely(FuzzedDataProvider data) {
        String regex = data.consumeString(data.consumeInt(1, 60));
        DetectorSet set;
        try {
            set = DetectorSet.withCustom(List.of(new DetectorSet.CustomPattern("FUZZ", DataClass.Kind.PII, regex)));
        } catch (IllegalArgumentException refused) {
            return;
        }
        String text = data.consumeRemainingAsString();
        int last = 0;
        for (Detection d : set.scan(text)) {
            assertTrue(d.start() >= last && d.end() <= text.length());
            last = d.end();
        }
    }
}
