package dev.policygate.infra;

import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad context stops the synth with a message that names the key. */
class PolicygateConfigTest {

    private static PolicygateConfig config(Map<String, Object> context) {
        return PolicygateConfig.fromContext(new App(AppProps.builder().context(context).build()).getNode());
    }

    @Test
    void defaults_matchTheDocumentedValues() {
        PolicygateConfig c = config(Map.of());
        assertThat(c.integrationTimeoutSeconds()).isEqualTo(29);
        assertThat(c.approvalTimeoutSeconds()).isEqualTo(3600);
        assertThat(c.heldRequestExpiryDays()).isEqualTo(2);
        assertThat(c.sesFrom()).isEqualTo(PolicygateConfig.PLACEHOLDER_SENDER);
        assertThat(c.sesIdentity()).isEqualTo(c.sesFrom());
        assertThat(c.bedrock()).isFalse();
        assertThat(c.waf()).isFalse();
        assertThat(c.objectLock()).isFalse();
        assertThat(c.maxBodyBytes()).isEqualTo(6 * 1024 * 1024);
    }

    @Test
    void oidcIssuer_withoutJwksUrl_usesTheWellKnownPath() {
        PolicygateConfig c = config(Map.of("oidcIssuer", "https://login.corp.example.org/", "oidcAudience", "pg"));
        assertThat(c.oidcJwksUrl()).isEqualTo("https://login.corp.example.org/.well-known/jwks.json");
        assertThat(c.oidcGroupsClaim()).isEqualTo("groups");
    }

    @Test
    void bedrockProfilePrefix_defaultsToUs_andNoneMeansInRegionIds() {
        assertThat(config(Map.of()).bedrockProfilePrefix()).isEqualTo("us.");
        assertThat(config(Map.of("bedrockProfilePrefix", "none")).bedrockProfilePrefix()).isEmpty();
        assertThat(config(Map.of("bedrockProfilePrefix", "eu.")).bedrockProfilePrefix()).isEqualTo("eu.");
        assertThatThrownBy(() -> config(Map.of("bedrockProfilePrefix", "eu")))
                .hasMessageContaining("bedrockProfilePrefix");
    }

    @Test
    void badValues_nameTheirContextKey() {
        assertThatThrownBy(() -> config(Map.of("upstream", "openai"))).hasMessageContaining("upstream");
        assertThatThrownBy(() -> config(Map.of("integrationTimeoutSeconds", "0")))
                .hasMessageContaining("integrationTimeoutSeconds");
        assertThatThrownBy(() -> config(Map.of("approvalTimeoutSeconds", "ten")))
                .hasMessageContaining("approvalTimeoutSeconds");
        assertThatThrownBy(() -> config(Map.of("sesFrom", "not-an-address"))).hasMessageContaining("sesFrom");
        assertThatThrownBy(() -> config(Map.of("sesFrom", "a@corp.example.org", "sesIdentity", "other.example.org")))
                .hasMessageContaining("sesIdentity");
        assertThatThrownBy(() -> config(Map.of("oidcIssuer", "http://insecure.example.org", "oidcAudience", "x")))
                .hasMessageContaining("oidcIssuer");
        assertThatThrownBy(() -> config(Map.of("cognitoSaml", "true"))).hasMessageContaining("samlMetadataUrl");
        assertThatThrownBy(() -> config(Map.of("maxBodyBytes", "7000000"))).hasMessageContaining("maxBodyBytes");
        assertThatThrownBy(() -> config(Map.of("waf", "yes"))).hasMessageContaining("waf");
    }
}
