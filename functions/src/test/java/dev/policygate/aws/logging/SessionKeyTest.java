package dev.policygate.aws.logging;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SessionKeyTest {
    private static final String ID = "01JDA6C0V8Q5N4M3K2J1H0G9F8";

    @Test
    void fromMessage_readsTheIdOfTheCoresSessionPrefix() {
        assertThat(SessionKey.fromMessage("session " + ID + ": write-ahead failed")).isEqualTo(ID);
        assertThat(SessionKey.fromMessage("session " + ID + " has no held request")).isEqualTo(ID);
    }

    @Test
    void fromMessage_ignoresLinesThatDoNotStartWithAWellFormedId() {
        assertThat(SessionKey.fromMessage("approval 123: delivered")).isNull();
        assertThat(SessionKey.fromMessage("session " + ID)).isNull();
        assertThat(SessionKey.fromMessage("session 01JDA6C0V8Q5N4M3K2J1H0G9FI: x")).isNull();
        assertThat(SessionKey.fromMessage("the session " + ID + ": x")).isNull();
        assertThat(SessionKey.fromMessage(null)).isNull();
    }

    @Test
    void julLevels_mapToLog4jLevels() {
        assertThat(JulBridge.level(java.util.logging.Level.SEVERE.intValue()).name()).isEqualTo("ERROR");
        assertThat(JulBridge.level(java.util.logging.Level.WARNING.intValue()).name()).isEqualTo("WARN");
        assertThat(JulBridge.level(java.util.logging.Level.INFO.intValue()).name()).isEqualTo("INFO");
        assertThat(JulBridge.level(java.util.logging.Level.FINE.intValue()).name()).isEqualTo("DEBUG");
        assertThat(JulBridge.level(java.util.logging.Level.FINEST.intValue()).name()).isEqualTo("TRACE");
    }
}
