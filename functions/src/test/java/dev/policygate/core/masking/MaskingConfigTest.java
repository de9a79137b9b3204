package dev.policygate.core.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.policygate.core.detect.DataClass;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MaskingConfigTest {

    @Test
    void defaults_redactEverything_exceptPartialCardAndPhone() {
        MaskingConfig config = MaskingConfig.defaults(null);
        assertThat(config.strategyFor(DataClass.EMAIL)).isEqualTo(MaskingStrategy.REDACT);
        assertThat(config.strategyFor(DataClass.AWS_SECRET_KEY)).isEqualTo(MaskingStrategy.REDACT);
        assertThat(config.strategyFor(DataClass.CREDIT_CARD)).isEqualTo(MaskingStrategy.PARTIAL);
        assertThat(config.strategyFor(DataClass.PHONE)).isEqualTo(MaskingStrategy.PARTIAL);
    }

    @Test
    void constructor_rejectsConfig_whenHashIsUsedWithoutKey() {
        assertThatThrownBy(() -> new MaskingConfig(MaskingStrategy.REDACT, Map.of("EMAIL", MaskingStrategy.HASH), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16 bytes");
        assertThatThrownBy(() -> new MaskingConfig(MaskingStrategy.HASH, Map.of(), new byte[15]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void constructor_rejectsConfig_whenClassNameIsInvalid() {
        assertThatThrownBy(() -> new MaskingConfig(MaskingStrategy.REDACT, Map.of("email", MaskingStrategy.HASH),
                new byte[16])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void strategyFor_usesCustomClassEntry_whenConfigured() {
        MaskingConfig config = new MaskingConfig(MaskingStrategy.REDACT, Map.of("EMPLOYEE_ID", MaskingStrategy.HASH),
                new byte[16]);
        assertThat(config.strategyFor(new DataClass("EMPLOYEE_ID", DataClass.Kind.PII))).isEqualTo(MaskingStrategy.HASH);
    }

    @Test
    void hashKey_isCopied_soCallersCannotChangeIt() {
        byte[] key = new byte[16];
        MaskingConfig config = new MaskingConfig(MaskingStrategy.HASH, Map.of(), key);
        key[0] = 1;
        config.hashKey()[1] = 1;
        assertThat(config.hashKey()).containsOnly(0);
    }

    @Test
    void toString_neverPrintsTheKey() {
        MaskingConfig config = new MaskingConfig(MaskingStrategy.HASH, Map.of(), "supersecretkey-123456".getBytes());
        assertThat(config.toString()).doesNotContain("supersecret").contains("21 bytes");
    }
}
