package dev.policygate.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextMaskerTest {
    static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    static final byte[] OTHER_KEY = "fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.US_ASCII);

    static TextMasker masker(MaskingStrategy strategy) {
        return new TextMasker(DetectorSet.builtIns(), new MaskingConfig(strategy, Map.of(), KEY));
    }

    @Test
    void mask_redactsEmail_whenReaderMayNotSeeIt() {
        // GIVEN the REDACT strategy and a reader without read_unmasked
        TextMasker masker = masker(MaskingStrategy.REDACT);
        // WHEN a text with an address is masked
        MaskResult r = masker.mask("Reply to alice@example.com today.", UnmaskDecider.MASK_ALL);
        // THEN the address is replaced by its class
        assertThat(r.text()).isEqualTo("Reply to [EMAIL] today.");
        assertThat(r.detected()).containsExactly(DataClass.EMAIL);
        assertThat(r.masked()).containsExactly(DataClass.EMAIL);
    }

    @Test
    void mask_keepsEntity_whenReaderMaySeeItUnmasked() {
        TextMasker masker = masker(MaskingStrategy.REDACT);
        String text = "Reply to alice@example.com today.";
        MaskResult r = masker.mask(text, c -> c.equals(DataClass.EMAIL));
        assertThat(r.text()).isSameAs(text);
        assertThat(r.detected()).containsExactly(DataClass.EMAIL);
        assertThat(r.masked()).isEmpty();
    }

    @Test
    void mask_returnsSameInstance_whenNothingIsDetected() {
        String text = "Nothing sensitive here, version 1.2.3.";
        MaskResult r = masker(MaskingStrategy.REDACT).mask(text, UnmaskDecider.MASK_ALL);
        assertThat(r.text()).isSameAs(text);
        assertThat(r.detected()).isEmpty();
    }

    @Test
    void mask_failsClosed_whenDeciderThrows() {
        MaskResult r = masker(MaskingStrategy.REDACT).mask("a@example.com", c -> {
            throw new IllegalStateException("policy store down");
        });
        assertThat(r.text()).isEqualTo("[EMAIL]");
    }

    @Test
    void mask_keepsLastFourCharacters_whenStrategyIsPartial() {
        MaskResult r = masker(MaskingStrategy.PARTIAL).mask("card 4111 1111 1111 1111 ok", UnmaskDecider.MASK_ALL);
        assertThat(r.text()).isEqualTo("card [CREDIT_CARD ****1111] ok");
    }

    @Test
    void mask_keepsAtMostAThird_whenPartialEntityIsShort() {
        // GIVEN a 10-character IP address: a third is 3 characters
        MaskResult r = masker(MaskingStrategy.PARTIAL).mask("ip 10.0.0.123", UnmaskDecider.MASK_ALL);
        assertThat(r.text()).isEqualTo("ip [IP_ADDRESS ****123]");
    }

    @Test
    void mask_fallsBackToRedact_whenPartialEntityIsUnderEightChars() {
        MaskResult r = masker(MaskingStrategy.PARTIAL).mask("ip 1.2.3.4", UnmaskDecider.MASK_ALL);
        assertThat(r.text()).isEqualTo("ip [IP_ADDRESS]");
    }

    @Test
    void mask_writesTwelveHexPseudonym_whenStrategyIsHash() {
        MaskResult r = masker(MaskingStrategy.HASH).mask("mail bob@example.com", UnmaskDecider.MASK_ALL);
        assertThat(r.text()).matches("mail \\[EMAIL:[0-9a-f]{12}]");
    }

    @Test
    void mask_givesSamePseudonym_whenValueAndKeyAreTheSame() {
        TextMasker masker = masker(MaskingStrategy.HASH);
        String first = masker.mask("bob@example.com", UnmaskDecider.MASK_ALL).text();
        String again = masker(MaskingStrategy.HASH).mask("x bob@example.com y", UnmaskDecider.MASK_ALL).text();
        String other = masker.mask("eve@example.com", UnmaskDecider.MASK_ALL).text();
        assertThat(again).isEqualTo("x " + first + " y");
        assertThat(other).isNotEqualTo(first);
    }

    @Test
    void mask_givesDifferentPseudonym_whenKeyDiffers() {
        TextMasker other = new TextMasker(DetectorSet.builtIns(),
                new MaskingConfig(MaskingStrategy.HASH, Map.of(), OTHER_KEY));
        String a = masker(MaskingStrategy.HASH).mask("bob@example.com", UnmaskDecider.MASK_ALL).text();
        String b = other.mask("bob@example.com", UnmaskDecider.MASK_ALL).text();
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void mask_appliesPerClassStrategies_whenConfigDefaultsAreUsed() {
        TextMasker masker = new TextMasker(DetectorSet.builtIns(), MaskingConfig.defaults(null));
        MaskResult r = masker.mask("a@example.com, (415) 555-0132, 4111111111111111", UnmaskDecider.MASK_ALL);
        assertThat(r.text()).isEqualTo("[EMAIL], [PHONE ****0132], [CREDIT_CARD ****1111]");
        assertThat(r.masked()).containsExactlyInAnyOrder(DataClass.EMAIL, DataClass.PHONE, DataClass.CREDIT_CARD);
    }

    @Test
    void mask_masksOnlyForbiddenClasses_whenReaderMaySeeSome() {
        TextMasker masker = masker(MaskingStrategy.REDACT);
        MaskResult r = masker.mask("a@example.com from 10.0.0.1", c -> c.equals(DataClass.IP_ADDRESS));
        assertThat(r.text()).isEqualTo("[EMAIL] from 10.0.0.1");
        assertThat(r.detected()).containsExactlyInAnyOrder(DataClass.EMAIL, DataClass.IP_ADDRESS);
        assertThat(r.masked()).containsExactly(DataClass.EMAIL);
    }

    @Test
    void detect_listsClasses_withoutMasking() {
        assertThat(masker(MaskingStrategy.REDACT).detect("a@example.com and 123-45-6789"))
                .containsExactlyInAnyOrder(DataClass.EMAIL, DataClass.US_SSN);
        assertThat(masker(MaskingStrategy.REDACT).detect("plain text")).isEmpty();
    }
}
