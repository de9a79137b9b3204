package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import dev.policygate.core.text.PromptNormalizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the prompt normaliser that {@code like} policies match against. Properties: it is
 * idempotent (a policy term normalised the same way still matches); its output has no ASCII
 * capitals, no invisible format characters or combining marks, single spaces and no edge
 * spaces; and a plain lower-case term written in the prompt survives whatever surrounds it,
 * so normalisation never hides a term a policy could otherwise see.
 */
class PromptNormalizerFuzzTest {

    @FuzzTest
    void normalise_isIdempotent_andCanonical(@NotNull String s) {
        String once = PromptNormalizer.normalise(s);
        assertEquals(Visibility.printable(once), Visibility.printable(PromptNormalizer.normalise(once)),
                "not idempotent for " + Visibility.printable(s));
        assertFalse(once.startsWith(" ") || once.endsWith(" ") || once.contains("  "), "spaces not collapsed");
        once.codePoints().forEach(cp -> {
            assertFalse(cp >= 'A' && cp <= 'Z', "capital left in " + Visibility.printable(once));
            int type = Character.getType(cp);
            assertFalse(type == Character.FORMAT || type == Character.NON_SPACING_MARK
                    || type == Character.ENCLOSING_MARK || type == Character.CONTROL,
                    "invisible U+" + Integer.toHexString(cp) + " left in " + Visibility.printable(once));
            assertFalse(cp != ' ' && Character.isWhitespace(cp), "whitespace other than a space left");
        });
    }

    @FuzzTest
    void normalise_neverHidesAPlainTerm(FuzzedDataProvider data) {
        String before = data.consumeString(data.consumeInt(0, 60));
        String term = data.pickValue(new String[] {"delete", "drop table", "rm -rf", "wire money", "ssn"});
        String after = data.consumeRemainingAsString();
        // a separator on both sides: "undelete" legitimately also contains "delete", but a
        // combining mark or letter glued to the term may change what it is
        String prompt = before + " " + term + " " + after;
        String n = PromptNormalizer.normalise(prompt);
        assertTrue(n.contains(term), "term " + term + " hidden: " + Visibility.printable(prompt) + " -> "
                + Visibility.printable(n));
    }
}
