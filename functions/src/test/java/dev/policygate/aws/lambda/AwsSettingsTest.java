package dev.policygate.aws.lambda;

import dev.policygate.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AwsSettingsTest {
    private static final String SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:anthropic-AbCdEf";

    private static Map<String, String> required() {
        Map<String, String> env = new HashMap<>();
        env.put(AwsSettings.AWS_REGION, "eu-west-1");
        env.put(AwsSettings.TABLE, "policygate-prod");
        env.put(AwsSettings.BUCKET, "policygate-recordings-123456789012");
        env.put(AwsSettings.API_KEY_SECRET_ARN, SECRET_ARN);
        return env;
    }

    private static Map<String, String> with(String name, String value) {
        Map<String, String> env = required();
        env.put(name, value);
        return env;
    }

    @Test
    void fromEnvironment_appliesTheDefaults_whenOnlyTheRequiredVariablesAreSet() {
        // GIVEN only the required variables
        // WHEN the settings are read
        AwsSettings s = AwsSettings.fromEnvironment(required());
        // THEN every optional setting has its documented default
        assertThat(s.region()).isEqualTo("eu-west-1");
        assertThat(s.upstreamUrl()).isEqualTo(URI.create("https://api.anthropic.com"));
        assertThat(s.kmsKeyId()).isNull();
        assertThat(s.oidc()).isNull();
        assertThat(s.publicUrl()).isNull();
        assertThat(s.failOpen()).isFalse();
        assertThat(s.retentionDays()).isEqualTo(400);
        assertThat(s.maxBodyBytes()).isEqualTo(6_291_456);
        assertThat(s.policiesDir()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"AWS_REGION", "POLICYGATE_TABLE", "POLICYGATE_BUCKET"})
    void fromEnvironment_failsNamingTheVariable_whenARequiredOneIsMissingOrBlank(String variable) {
        // GIVEN the required variables, one of them missing, then blank
        Map<String, String> missing = required();
        missing.remove(variable);
        // WHEN / THEN reading fails with a message that names it
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(missing))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(variable + " is required");
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(with(variable, "  ")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(variable + " is required");
    }

    @org.junit.jupiter.api.Test
    void theAnthropicKeySecret_isRequiredOnlyWhereClaudeIsCalledThroughTheAnthropicApi() {
        Map<String, String> env = required();
        env.remove("ANTHROPIC_API_KEY_SECRET_ARN");
        AwsSettings s = AwsSettings.fromEnvironment(env);
        assertThat(s.anthropicApiKeySecretArn()).isNull();
        assertThat(s.upstream()).isEqualTo(AwsSettings.Upstream.ANTHROPIC);
        assertThatThrownBy(s::requireAnthropicApiKeySecretArn).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("ANTHROPIC_API_KEY_SECRET_ARN is required");
        env.put("POLICYGATE_UPSTREAM", "Bedrock");
        env.put("POLICYGATE_BEDROCK_PROFILE_PREFIX", "eu.");
        AwsSettings bedrock = AwsSettings.fromEnvironment(env);
        assertThat(bedrock.upstream()).isEqualTo(AwsSettings.Upstream.BEDROCK);
        assertThat(bedrock.bedrockProfilePrefix()).isEqualTo("eu.");
        env.put("POLICYGATE_UPSTREAM", "openai");
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(env)).hasMessage("POLICYGATE_UPSTREAM must be anthropic or bedrock");
        env.put("POLICYGATE_UPSTREAM", "bedrock");
        env.put("POLICYGATE_BEDROCK_PROFILE_PREFIX", "us");
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(env)).hasMessageStartingWith("POLICYGATE_BEDROCK_PROFILE_PREFIX");
        assertThat(LambdaWiring.bedrockPrefix(null)).isEqualTo("us.");
        assertThat(LambdaWiring.bedrockPrefix("none")).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "AWS_REGION                   | Ireland",
            "POLICYGATE_TABLE             | no spaces allowed",
            "POLICYGATE_BUCKET            | Upper_Case_Bucket",
            "POLICYGATE_KMS_KEY_ID        | key with spaces",
            "POLICYGATE_UPSTREAM_URL      | http://api.anthropic.com",
            "POLICYGATE_UPSTREAM_URL      | https://user:pw@api.anthropic.com",
            "POLICYGATE_UPSTREAM_URL      | not a url",
            "ANTHROPIC_API_KEY_SECRET_ARN | sk-ant-api03-this-is-a-key-not-an-arn",
            "POLICYGATE_PUBLIC_URL        | https://gw.example.com/prod?x=1",
            "POLICYGATE_FAIL_OPEN         | yes",
            "POLICYGATE_RETENTION_DAYS    | 0",
            "POLICYGATE_RETENTION_DAYS    | forever",
            "POLICYGATE_MAX_BODY_BYTES    | 100",
            "POLICYGATE_MAX_BODY_BYTES    | 10485760",
            "POLICYGATE_POLICIES_DIR      | /no/such/policies",
    })
    void fromEnvironment_failsNamingTheVariable_whenAValueIsInvalid(String variable, String value) {
        // GIVEN an invalid value
        Map<String, String> env = with(variable, value);
        // WHEN / THEN reading fails fast, naming the variable
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(env))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(variable + " ");
    }

    @Test
    void fromEnvironment_readsEveryOptionalSetting() {
        // GIVEN every optional variable set
        Map<String, String> env = required();
        env.put(AwsSettings.KMS_KEY_ID, "alias/policygate-recordings");
        env.put(AwsSettings.UPSTREAM_URL, "http://127.0.0.1:9999");
        env.put(AwsSettings.PUBLIC_URL, "https://gw.example.com/prod/");
        env.put(AwsSettings.FAIL_OPEN, "TRUE");
        env.put(AwsSettings.RETENTION_DAYS, "30");
        env.put(AwsSettings.MAX_BODY_BYTES, "65536");
        env.put(AwsSettings.POLICIES_DIR, Fixtures.root().resolve("cedar-policies").toString());
        // WHEN the settings are read
        AwsSettings s = AwsSettings.fromEnvironment(env);
        // THEN each is typed; http is accepted for a loopback upstream; the trailing slash goes
        assertThat(s.kmsKeyId()).isEqualTo("alias/policygate-recordings");
        assertThat(s.upstreamUrl()).isEqualTo(URI.create("http://127.0.0.1:9999"));
        assertThat(s.publicUrl()).isEqualTo("https://gw.example.com/prod");
        assertThat(s.failOpen()).isTrue();
        assertThat(s.retentionDays()).isEqualTo(30);
        assertThat(s.maxBodyBytes()).isEqualTo(65536);
        assertThat(s.policiesDir()).isEqualTo(Fixtures.root().resolve("cedar-policies"));
    }

    @Test
    void fromEnvironment_treatsBlankOptionalVariablesAsUnset() {
        // GIVEN optional variables present but empty, as a template may leave them
        Map<String, String> env = required();
        env.put(AwsSettings.KMS_KEY_ID, "");
        env.put(AwsSettings.RETENTION_DAYS, " ");
        env.put(AwsSettings.OIDC_ISSUER, "");
        // WHEN / THEN they take their defaults
        AwsSettings s = AwsSettings.fromEnvironment(env);
        assertThat(s.kmsKeyId()).isNull();
        assertThat(s.retentionDays()).isEqualTo(400);
        assertThat(s.oidc()).isNull();
    }

    @Test
    void fromEnvironment_acceptsOidc_whenIssuerAudienceAndJwksUrlAreAllSet() {
        // GIVEN the three OIDC variables and a groups claim
        Map<String, String> env = required();
        env.put(AwsSettings.OIDC_ISSUER, "https://login.example.com/");
        env.put(AwsSettings.OIDC_AUDIENCE, "policygate");
        env.put(AwsSettings.OIDC_JWKS_URL, "https://login.example.com/.well-known/jwks.json");
        env.put(AwsSettings.OIDC_GROUPS_CLAIM, "cognito:groups");
        // WHEN the settings are read
        AwsSettings s = AwsSettings.fromEnvironment(env);
        // THEN JWTs are accepted with those values
        assertThat(s.oidc().issuer()).isEqualTo("https://login.example.com/");
        assertThat(s.oidc().audience()).isEqualTo("policygate");
        assertThat(s.oidc().jwksUri()).isEqualTo(URI.create("https://login.example.com/.well-known/jwks.json"));
        assertThat(s.oidc().groupsClaim()).isEqualTo("cognito:groups");
    }

    @Test
    void fromEnvironment_defaultsTheGroupsClaim_whenOidcIsSetWithoutIt() {
        Map<String, String> env = required();
        env.put(AwsSettings.OIDC_ISSUER, "https://login.example.com/");
        env.put(AwsSettings.OIDC_AUDIENCE, "policygate");
        env.put(AwsSettings.OIDC_JWKS_URL, "https://login.example.com/.well-known/jwks.json");
        assertThat(AwsSettings.fromEnvironment(env).oidc().groupsClaim()).isEqualTo("groups");
    }

    @ParameterizedTest
    @ValueSource(strings = {"POLICYGATE_OIDC_ISSUER", "POLICYGATE_OIDC_AUDIENCE", "POLICYGATE_OIDC_JWKS_URL"})
    void fromEnvironment_refusesPartialOidc_namingTheMissingVariable(String missing) {
        // GIVEN two of the three OIDC variables
        Map<String, String> env = required();
        env.put(AwsSettings.OIDC_ISSUER, "https://login.example.com/");
        env.put(AwsSettings.OIDC_AUDIENCE, "policygate");
        env.put(AwsSettings.OIDC_JWKS_URL, "https://login.example.com/.well-known/jwks.json");
        env.remove(missing);
        // WHEN / THEN it fails naming the one that is missing
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(env))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(missing + " is required");
    }

    @Test
    void fromEnvironment_refusesAGroupsClaimWithoutOidc() {
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(with(AwsSettings.OIDC_GROUPS_CLAIM, "groups")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(AwsSettings.OIDC_GROUPS_CLAIM + " is set");
    }

    @Test
    void fromEnvironment_namesTheJwksVariable_whenTheJwksUrlIsPlainHttpToAnotherHost() {
        Map<String, String> env = required();
        env.put(AwsSettings.OIDC_ISSUER, "https://login.example.com/");
        env.put(AwsSettings.OIDC_AUDIENCE, "policygate");
        env.put(AwsSettings.OIDC_JWKS_URL, "http://login.example.com/jwks.json");
        assertThatThrownBy(() -> AwsSettings.fromEnvironment(env))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(AwsSettings.OIDC_JWKS_URL + ": ");
    }
}
