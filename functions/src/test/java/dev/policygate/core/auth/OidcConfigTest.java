package dev.policygate.core.auth;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class OidcConfigTest {
    @Test
    void constructor_appliesDefaults() {
        OidcConfig config = new OidcConfig("https://idp/", "aud", URI.create("https://idp/jwks"));

        assertThat(config.groupsClaim()).isEqualTo("groups");
        assertThat(config.emailClaim()).isEqualTo("email");
        assertThat(config.clockSkew()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.maxTokenBytes()).isEqualTo(8192);
    }

    @Test
    void constructor_refusesSkewAboveFiveMinutes() {
        assertThatIllegalArgumentException().isThrownBy(() -> new OidcConfig("https://idp/", "aud",
                URI.create("https://idp/jwks"), null, null, Duration.ofMinutes(6), 0));
    }

    @Test
    void constructor_refusesPlainHttpJwks_exceptOnLoopback() {
        assertThatIllegalArgumentException().isThrownBy(() ->
                new OidcConfig("https://idp/", "aud", URI.create("http://idp.example.com/jwks")));
        assertThat(new OidcConfig("https://idp/", "aud", URI.create("http://127.0.0.1:8080/jwks")).jwksUri())
                .hasHost("127.0.0.1");
    }

    @Test
    void constructor_refusesOtherSchemesAndBlankValues() {
        assertThatIllegalArgumentException().isThrownBy(() ->
                new OidcConfig("https://idp/", "aud", URI.create("ftp://idp/jwks")));
        assertThatIllegalArgumentException().isThrownBy(() ->
                new OidcConfig(" ", "aud", URI.create("https://idp/jwks")));
        assertThatIllegalArgumentException().isThrownBy(() ->
                new OidcConfig("https://idp/", "", URI.create("https://idp/jwks")));
    }

    @Test
    void constructor_refusesTokenLimitAboveTheGatewayCredentialLimit() {
        assertThatIllegalArgumentException().isThrownBy(() -> new OidcConfig("https://idp/", "aud",
                URI.create("https://idp/jwks"), null, null, null, 8193));
    }
}
