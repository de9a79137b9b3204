package dev.policygate.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromptNormalizerTest {

    @Test
    void normalise_lowercases_whenTextUsesCapitals() {
        // GIVEN a shouted command
        String prompt = "DELETE the Production DB";
        // WHEN normalised
        String out = PromptNormalizer.normalise(prompt);
        // THEN it is lowercase and otherwise unchanged
        assertThat(out).isEqualTo("delete the production db");
    }

    @Test
    void normalise_returnsSameInstance_whenAsciiTextIsAlreadyCanonical() {
        String prompt = "please summarise this report, thanks.";
        assertThat(PromptNormalizer.normalise(prompt)).isSameAs(prompt);
    }

    @Test
    void normalise_keepsOrdinaryTextButLowercased_whenNothingIsHidden() {
        String prompt = "Hello, World! 42 items; e-mail me at noon.";
        assertThat(PromptNormalizer.normalise(prompt)).isEqualTo("hello, world! 42 items; e-mail me at noon.");
    }

    @Test
    void normalise_removesZeroWidthSpace_whenHiddenInsideAWord() {
        assertThat(PromptNormalizer.normalise("del\u200Bete")).isEqualTo("delete");
    }

    @Test
    void normalise_removesJoinersWordJoinerAndBom_whenHiddenInsideAWord() {
        assertThat(PromptNormalizer.normalise("\uFEFFd\u200Ce\u200Dl\u2060e\u034Ft\u180Ee")).isEqualTo("delete");
    }

    @Test
    void normalise_removesSoftHyphen_whenUsedToSplitAWord() {
        assertThat(PromptNormalizer.normalise("dele\u00ADte")).isEqualTo("delete");
    }

    @Test
    void normalise_removesVariationSelectorsAndTags_whenAppendedToLetters() {
        assertThat(PromptNormalizer.normalise("de\uFE0Fle\uDB40\uDC74te")).isEqualTo("delete");
    }

    @Test
    void normalise_removesHangulFiller_whenUsedAsInvisibleLetter() {
        assertThat(PromptNormalizer.normalise("dele\u3164te")).isEqualTo("delete");
    }

    @Test
    void normalise_foldsFullwidthLetters_whenPromptUsesThem() {
        assertThat(PromptNormalizer.normalise("ｄｅｌｅｔｅ")).isEqualTo("delete");
    }

    @Test
    void normalise_foldsCyrillicLookalikes_whenMixedIntoLatinWord() {
        // GIVEN "delete" with Cyrillic е (U+0435)
        String prompt = "d\u0435l\u0435t\u0435";
        // WHEN normalised THEN it matches the Latin word
        assertThat(PromptNormalizer.normalise(prompt)).isEqualTo("delete");
    }

    @Test
    void normalise_foldsCyrillicCapitalsAndSmallLetters_whenWholeWordIsSpoofed() {
        assertThat(PromptNormalizer.normalise("\u0420\u0410\u0405\u0405\u0412\u041E\u0420\u0414"
                .replace('\u0414', 'D'))).isEqualTo("passbopd");
        assertThat(PromptNormalizer.normalise("\u0441\u043E\u0440\u0443 \u0445 \u0456\u0458\u0455\u04BB\u0501\u051B\u051D"))
                .isEqualTo("copy x ijshdqw");
    }

    @Test
    void normalise_foldsGreekLookalikes_whenMixedIntoLatinWord() {
        // Greek ο, ρ, α, ν, ι, κ, τ, υ, χ and capitals Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ
        assertThat(PromptNormalizer.normalise("dr\u03BF\u03C1 t\u03B1ble")).isEqualTo("drop table");
        assertThat(PromptNormalizer.normalise("\u03BD\u03B9\u03BA\u03C4\u03C5\u03C7")).isEqualTo("viktux");
        assertThat(PromptNormalizer.normalise("\u0391\u0392\u0395\u0396\u0397\u0399\u039A\u039C\u039D\u039F\u03A1\u03A4\u03A5\u03A7"))
                .isEqualTo("abezhikmnoptyx");
    }

    @Test
    void normalise_dropsCombiningMarks_whenAccentsDecorateLetters() {
        assertThat(PromptNormalizer.normalise("d\u00E9l\u00E9te")).isEqualTo("delete");
        assertThat(PromptNormalizer.normalise("d\u0301e\u0308l\u0303ete\u20DD")).isEqualTo("delete");
    }

    @Test
    void normalise_foldsMathematicalBold_whenPromptUsesStyledLetters() {
        assertThat(PromptNormalizer.normalise("\uD835\uDC1D\uD835\uDC1E\uD835\uDC25\uD835\uDC1E\uD835\uDC2D\uD835\uDC1E"))
                .isEqualTo("delete");
    }

    @Test
    void normalise_collapsesUnicodeWhitespace_whenSpacesAreUnusual() {
        // GIVEN NBSP, en quad..hair space, ideographic space, tabs and newlines
        String prompt = "\t drop\u00A0\u00A0table\u2003\u200Ausers\u3000\n\r\nnow \u2028";
        // THEN every run is one space and the ends are trimmed
        assertThat(PromptNormalizer.normalise(prompt)).isEqualTo("drop table users now");
    }

    @Test
    void normalise_collapsesAsciiWhitespace_whenOnlyAsciiIsUsed() {
        assertThat(PromptNormalizer.normalise("  rm\t\t-rf \n /  ")).isEqualTo("rm -rf /");
    }

    @Test
    void normalise_returnsEmpty_whenOnlyInvisibleOrWhitespace() {
        assertThat(PromptNormalizer.normalise("")).isEmpty();
        assertThat(PromptNormalizer.normalise(" \u200B\u00A0\t")).isEmpty();
    }

    @Test
    void normalise_foldsOnlyLookalikes_whenTextIsInAnotherScript() {
        // GIVEN Russian, Japanese and Korean (Hangul decomposes under NFKD and must recompose)
        String prompt = "Привет Мир 日本語 한국어";
        // THEN only the Cyrillic letters that imitate Latin ones are folded
        assertThat(PromptNormalizer.normalise(prompt)).isEqualTo("пpивeт mиp 日本語 한국어");
    }
}
