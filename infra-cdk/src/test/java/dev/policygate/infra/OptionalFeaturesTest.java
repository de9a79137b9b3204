package dev.policygate.infra;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Match;

import java.util.List;
import java.util.Map;

import static dev.policygate.infra.Stacks.json;
import static org.assertj.core.api.Assertions.assertThat;

/** WAF, Bedrock, Cognito with SAML, Object Lock and a raised integration timeout, all from context. */
class OptionalFeaturesTest {
    private static Stacks.Synth s;
    private static String gateway;
    private static String forward;
    private static String notifier;

    @BeforeAll
    static void synth() {
        s = Stacks.of(Stacks.FULL);
        gateway = s.function(PolicygateStack.GATEWAY_HANDLER);
        forward = s.function(PolicygateStack.FORWARD_HANDLER);
        notifier = s.function(PolicygateStack.NOTIFIER_HANDLER);
    }

    @Test
    void waf_protectsTheStage_withRateLimit_andBodyRulesOnlyCounting() {
        s.template().resourceCountIs("AWS::WAFv2::WebACL", 1);
        s.template().resourceCountIs("AWS::WAFv2::WebACLAssociation", 1);
        String acl = json(s.resources("AWS::WAFv2::WebACL"));
        assertThat(acl).contains("\"RateBasedStatement\"", "AWSManagedRulesCommonRuleSet",
                "\"Name\":\"SizeRestrictions_BODY\"", "\"Name\":\"CrossSiteScripting_BODY\"");
        assertThat(json(s.resources("AWS::WAFv2::WebACLAssociation"))).contains("/stages/");
    }

    @Test
    void bedrock_isInvokableByGatewayAndForwardOnly_onAnthropicModelsOnly() {
        for (String fn : List.of(gateway, forward)) {
            List<Map<String, Object>> st = s.statementsOf(s.roleOf(fn)).stream()
                    .filter(x -> PolicygateStackTest.strings(x.get("Action")).contains("bedrock:InvokeModel")).toList();
            assertThat(st).as(fn).hasSize(1);
            assertThat(PolicygateStackTest.strings(st.get(0).get("Resource")))
                    .allMatch(r -> r.contains("anthropic."));
            assertThat(s.environmentOf(fn)).containsEntry("POLICYGATE_UPSTREAM", "bedrock")
                    .containsEntry("POLICYGATE_BEDROCK_PROFILE_PREFIX", "us.")
                    .doesNotContainKey("POLICYGATE_UPSTREAM_URL");
        }
        assertThat(json(s.statementsOf(s.roleOf(notifier)))).doesNotContain("bedrock:");
    }

    @Test
    void cognitoWithSaml_feedsTheGatewaysOidcSettings() {
        s.template().resourceCountIs("AWS::Cognito::UserPool", 1);
        s.template().hasResourceProperties("AWS::Cognito::UserPoolIdentityProvider", Map.of(
                "ProviderType", "SAML",
                "ProviderDetails", Map.of("MetadataURL", "https://idp.corp.example.org/saml/metadata"),
                "AttributeMapping", Match.objectLike(Map.of("custom:groups", "http://schemas.xmlsoap.org/claims/Group"))));
        Map<String, Object> env = s.environmentOf(gateway);
        assertThat(json(env.get("POLICYGATE_OIDC_ISSUER"))).contains("cognito-idp.");
        assertThat(json(env.get("POLICYGATE_OIDC_AUDIENCE"))).contains("Ref");
        assertThat(json(env.get("POLICYGATE_OIDC_JWKS_URL"))).contains("/.well-known/jwks.json");
        assertThat(env).containsEntry("POLICYGATE_OIDC_GROUPS_CLAIM", "custom:groups");
    }

    @Test
    void objectLock_retainsRecordingsInGovernanceMode() {
        s.template().hasResourceProperties("AWS::S3::Bucket", Map.of(
                "ObjectLockEnabled", true,
                "ObjectLockConfiguration", Map.of("ObjectLockEnabled", "Enabled", "Rule", Map.of(
                        "DefaultRetention", Map.of("Mode", "GOVERNANCE", "Days", 730)))));
    }

    @Test
    void raisedIntegrationTimeout_reachesTheIntegrations_andTheGatewayFunctionTimeout() {
        s.template().hasResourceProperties("AWS::ApiGateway::Method", Map.of(
                "Integration", Match.objectLike(Map.of("TimeoutInMillis", 120_000))));
        assertThat(s.properties(gateway).get("Timeout")).isEqualTo(120);
    }

    @Test
    void heldRequests_expireAfterTheLongerApprovalTimeoutPlusADay() {
        // 172800 s = 2 days, plus one
        s.template().hasResourceProperties("AWS::S3::Bucket", Map.of("LifecycleConfiguration", Map.of(
                "Rules", Match.arrayWith(List.of(Match.objectLike(Map.of(
                        "Prefix", "held/", "ExpirationInDays", 3)))))));
        assertThat(s.environmentOf(gateway)).containsEntry("POLICYGATE_APPROVAL_TIMEOUT_SECONDS", "172800");
    }

    @Test
    void sesDomainIdentity_andConfigurationSet_areWiredToTheNotifier() {
        s.template().hasResourceProperties("AWS::SES::EmailIdentity", Map.of("EmailIdentity", "corp.example.org"));
        String mail = json(s.statementsOf(s.roleOf(notifier)).stream()
                .filter(x -> PolicygateStackTest.strings(x.get("Action")).contains("ses:SendEmail")).toList());
        assertThat(mail).contains(":identity/corp.example.org", ":configuration-set/policygate-mail");
        assertThat(s.environmentOf(notifier)).containsEntry("POLICYGATE_SES_CONFIGURATION_SET", "policygate-mail");
    }

    @Test
    void alarmEmail_isSubscribedToTheAlarmTopic() {
        s.template().hasResourceProperties("AWS::SNS::Subscription", Map.of(
                "Protocol", "email", "Endpoint", "oncall@corp.example.org"));
    }
}
