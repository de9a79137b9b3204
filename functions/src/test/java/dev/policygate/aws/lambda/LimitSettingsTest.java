package dev.policygate.aws.lambda;

import dev.policygate.core.gateway.GatewayLimits;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LimitSettingsTest {
    @Test
    void unset_meansTheDefaults_withLambdasReplyCeiling() {
        GatewayLimits l = LimitSettings.fromEnvironment(Map.of());
        assertThat(l.maxMessages()).isEqualTo(100_000);
        assertThat(l.maxTools()).isEqualTo(512);
        assertThat(l.maxReplyBytes()).isEqualTo(LambdaWiring.MAX_REPLY_BYTES);
        assertThat(l.streamTokenHold()).isEqualTo(8192);
    }

    @Test
    void eachVariable_isReadAtItsBoundaries_andABadValueNamesIt() {
        GatewayLimits l = LimitSettings.fromEnvironment(Map.of("POLICYGATE_MAX_MESSAGES", "1",
                "POLICYGATE_MAX_TOOLS", "0", "POLICYGATE_MAX_SSE_EVENT_BYTES", "1024",
                "POLICYGATE_MAX_REPLY_BYTES", Integer.toString(LambdaWiring.MAX_REPLY_BYTES),
                "POLICYGATE_STREAM_TOKEN_HOLD", "1024", "POLICYGATE_STREAM_KEY_HOLD", "4096"));
        assertThat(l).isEqualTo(new GatewayLimits(1, 0, 1024, LambdaWiring.MAX_REPLY_BYTES, 1024, 4096));
        assertThatThrownBy(() -> LimitSettings.fromEnvironment(Map.of("POLICYGATE_MAX_MESSAGES", "0")))
                .hasMessage("POLICYGATE_MAX_MESSAGES must be 1..100000");
        assertThatThrownBy(() -> LimitSettings.fromEnvironment(Map.of("POLICYGATE_MAX_TOOLS", "513")))
                .hasMessage("POLICYGATE_MAX_TOOLS must be 0..512");
        assertThatThrownBy(() -> LimitSettings.fromEnvironment(Map.of("POLICYGATE_MAX_REPLY_BYTES",
                Integer.toString(LambdaWiring.MAX_REPLY_BYTES + 1)))).hasMessageStartingWith("POLICYGATE_MAX_REPLY_BYTES");
        assertThatThrownBy(() -> LimitSettings.fromEnvironment(Map.of("POLICYGATE_STREAM_KEY_HOLD", "lots")))
                .hasMessage("POLICYGATE_STREAM_KEY_HOLD must be a whole number");
    }
}
