package dev.policygate.infra;

import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.lambda.AwsSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Match;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.policygate.infra.Stacks.json;
import static dev.policygate.infra.Stacks.props;
import static org.assertj.core.api.Assertions.assertThat;

/** The promises of the default stack, read from its synthesized template. */
class PolicygateStackTest {
    private static Stacks.Synth s;
    private static String gateway;
    private static String callback;
    private static String notifier;
    private static String forward;

    @BeforeAll
    static void synth() {
        s = Stacks.of(Stacks.DEFAULT);
        gateway = s.function(PolicygateStack.GATEWAY_HANDLER);
        callback = s.function(PolicygateStack.CALLBACK_HANDLER);
        notifier = s.function(PolicygateStack.NOTIFIER_HANDLER);
        forward = s.function(PolicygateStack.FORWARD_HANDLER);
    }

    private static List<String> functions() {
        return List.of(gateway, callback, notifier, forward);
    }

    // ------------------------------------------------------------ Lambda

    @Test
    void everyFunction_runsJava21OnArm64_withSnapStartOnPublishedVersions_andActiveTracing() {
        s.template().resourceCountIs("AWS::Lambda::Function", 4);
        for (String fn : functions()) {
            Map<String, Object> p = s.properties(fn);
            assertThat(p.get("Runtime")).as(fn).isEqualTo("java21");
            assertThat(p.get("Architectures")).as(fn).isEqualTo(List.of("arm64"));
            assertThat(p.get("SnapStart")).as(fn).isEqualTo(Map.of("ApplyOn", "PublishedVersions"));
            assertThat(p.get("TracingConfig")).as(fn).isEqualTo(Map.of("Mode", "Active"));
            assertThat(json(p.get("LoggingConfig"))).as(fn + " logs to its own group").contains("LogGroup");
        }
    }

    @Test
    void everyFunction_hasLiveAlias_onAPublishedVersionOfItself() {
        s.template().resourceCountIs("AWS::Lambda::Alias", 4);
        for (String fn : functions()) {
            Map<String, Object> alias = s.properties(s.alias(fn));
            assertThat(alias.get("Name")).isEqualTo(LiveFunction.ALIAS);
            String versionId = (String) ((List<?>) ((Map<?, ?>) alias.get("FunctionVersion")).get("Fn::GetAtt")).get(0);
            assertThat(s.resources("AWS::Lambda::Version")).containsKey(versionId);
            assertThat(json(s.properties(versionId).get("FunctionName"))).contains("\"" + fn + "\"");
        }
    }

    @Test
    void everyFunction_hasItsOwnRole() {
        Set<String> roles = new TreeSet<>();
        for (String fn : functions()) {
            roles.add(s.roleOf(fn));
        }
        assertThat(roles).hasSize(4);
    }

    @Test
    void apiGateway_invokesTheLiveAliases_neverTheUnqualifiedFunctions() {
        Map<String, Map<String, Object>> methods = s.resources("AWS::ApiGateway::Method");
        assertThat(methods).isNotEmpty();
        String gatewayAlias = s.alias(gateway);
        String callbackAlias = s.alias(callback);
        int toGateway = 0;
        int toCallback = 0;
        for (Map<String, Object> m : methods.values()) {
            Object integration = props(m).get("Integration");
            if (integration == null) {
                continue;
            }
            String uri = json(((Map<?, ?>) integration).get("Uri"));
            assertThat(uri).doesNotContain("\"" + gateway + "\"").doesNotContain("\"" + callback + "\"");
            if (uri.contains("\"" + gatewayAlias + "\"")) {
                toGateway++;
                assertThat(((Map<?, ?>) integration).get("TimeoutInMillis")).isEqualTo(29_000);
            }
            if (uri.contains("\"" + callbackAlias + "\"")) {
                toCallback++;
            }
            assertThat(((Map<?, ?>) integration).get("Type")).isEqualTo("AWS_PROXY");
        }
        assertThat(toGateway).as("/v1/{proxy+}, POST /v1/messages, /v1/messages/{proxy+}").isEqualTo(3);
        assertThat(toCallback).as("/approvals/{proxy+}").isEqualTo(1);
        // the permissions API Gateway gets are on the aliases too
        for (Map<String, Object> perm : s.resources("AWS::Lambda::Permission").values()) {
            String target = json(props(perm).get("FunctionName"));
            assertThat(target).satisfiesAnyOf(
                    t -> assertThat(t).contains("\"" + gatewayAlias + "\""),
                    t -> assertThat(t).contains("\"" + callbackAlias + "\""));
        }
    }

    @Test
    void api_isRegional_withResourcesForV1AndApprovals() {
        s.template().hasResourceProperties("AWS::ApiGateway::RestApi", Map.of(
                "EndpointConfiguration", Map.of("Types", List.of("REGIONAL"))));
        Set<String> paths = new TreeSet<>();
        s.resources("AWS::ApiGateway::Resource").values().forEach(r -> paths.add((String) props(r).get("PathPart")));
        assertThat(paths).contains("v1", "messages", "{proxy+}", "approvals");
    }

    @Test
    void stage_isThrottled_logsJsonAccessLogs_andErrorsWithoutBodies() {
        s.template().hasResourceProperties("AWS::ApiGateway::Stage", Map.of(
                "StageName", PolicygateStack.STAGE,
                "TracingEnabled", true,
                "AccessLogSetting", Match.objectLike(Map.of("Format", PolicygateStack.ACCESS_LOG_FORMAT)),
                "MethodSettings", Match.arrayWith(List.of(Match.objectLike(Map.of(
                        "HttpMethod", "*", "ResourcePath", "/*",
                        "ThrottlingRateLimit", 50, "ThrottlingBurstLimit", 100,
                        "LoggingLevel", "ERROR", "DataTraceEnabled", false))))));
        assertThat(PolicygateStack.ACCESS_LOG_FORMAT.replace("$context.", "")).startsWith("{").endsWith("}");
    }

    @Test
    void messagesRequests_areValidated_andApiErrorsAreAnthropicShaped() {
        s.template().hasResourceProperties("AWS::ApiGateway::RequestValidator", Map.of(
                "ValidateRequestBody", true, "ValidateRequestParameters", true));
        s.template().hasResourceProperties("AWS::ApiGateway::Model", Map.of(
                "ContentType", "application/json",
                "Schema", Match.objectLike(Map.of("required", List.of("model", "messages", "max_tokens")))));
        s.template().hasResourceProperties("AWS::ApiGateway::Method", Map.of(
                "HttpMethod", "POST",
                "RequestValidatorId", Match.anyValue(),
                "RequestModels", Map.of("application/json", Match.anyValue())));
        s.template().hasResourceProperties("AWS::ApiGateway::GatewayResponse", Map.of(
                "ResponseType", "THROTTLED", "StatusCode", "429",
                "ResponseTemplates", Map.of("application/json", Match.stringLikeRegexp(".*rate_limit_error.*"))));
    }

    // ------------------------------------------------------------ least privilege

    private static final Set<String> ACTIONS_WITHOUT_RESOURCES = Set.of(
            "xray:PutTraceSegments", "xray:PutTelemetryRecords",
            "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups", "xray:GetSamplingRules", "xray:GetSamplingTargets");

    @Test
    void noPolicy_grantsADataAction_onEveryResource_orAWildcardAction() {
        for (Map<String, Object> policy : s.resources("AWS::IAM::Policy").values()) {
            List<?> statements = (List<?>) ((Map<?, ?>) props(policy).get("PolicyDocument")).get("Statement");
            for (Object o : statements) {
                Map<?, ?> st = (Map<?, ?>) o;
                List<String> actions = strings(st.get("Action"));
                for (String a : actions) {
                    assertThat(a).as("action wildcard in " + json(st)).doesNotContain("*");
                }
                if (strings(st.get("Resource")).contains("*")) {
                    assertThat(ACTIONS_WITHOUT_RESOURCES).as("Resource * only for actions that have no resource: "
                            + json(st)).containsAll(actions);
                }
            }
        }
    }

    @Test
    void onlyTheGateway_startsApprovals_andOnlyTheCallback_resumesThem_onThisStateMachineOnly() {
        String sm = firstKey("AWS::StepFunctions::StateMachine");
        assertThat(actionsOf(gateway)).contains("states:StartExecution").doesNotContain("states:SendTaskSuccess");
        assertThat(actionsOf(callback)).contains("states:SendTaskSuccess", "states:SendTaskFailure")
                .doesNotContain("states:StartExecution");
        assertThat(actionsOf(notifier)).noneMatch(a -> a.startsWith("states:"));
        assertThat(actionsOf(forward)).noneMatch(a -> a.startsWith("states:"));
        for (Map<String, Object> st : statementsWith(gateway, "states:StartExecution")) {
            assertThat(st.get("Resource")).isEqualTo(Map.of("Ref", sm));
        }
        for (Map<String, Object> st : statementsWith(callback, "states:SendTaskSuccess")) {
            assertThat(st.get("Resource")).isEqualTo(Map.of("Ref", sm));
        }
        assertThat(json(s.environmentOf(gateway).get("POLICYGATE_STATE_MACHINE_ARN"))).contains("\"" + sm + "\"");
    }

    @Test
    void everyPolicygateFunction_isSizedAt1Gb_fromMeasurement() {
        for (String fn : functions()) {
            assertThat(props(s.resources("AWS::Lambda::Function").get(fn)).get("MemorySize")).as(fn)
                    .isEqualTo(PolicygateStack.FUNCTION_MEMORY_MB);
        }
    }

    @Test
    void heldRequests_areDeletedOnlyUnderHeld_byTheGatewayAndTheForward() {
        for (String fn : List.of(gateway, forward)) {
            List<Map<String, Object>> deletes = statementsWith(fn, "s3:DeleteObject");
            assertThat(deletes).as(fn).isNotEmpty();
            for (Map<String, Object> st : deletes) {
                assertThat(json(st.get("Resource"))).contains("/held/*").doesNotContain("/sessions/");
            }
        }
        assertThat(actionsOf(callback)).doesNotContain("s3:DeleteObject");
        assertThat(actionsOf(notifier)).doesNotContain("s3:DeleteObject");
    }

    @Test
    void onlyTheNotifier_sendsMail_fromTheConfiguredSenderIdentity() {
        for (String fn : List.of(gateway, callback, forward)) {
            assertThat(actionsOf(fn)).noneMatch(a -> a.startsWith("ses:"));
        }
        List<Map<String, Object>> mail = statementsWith(notifier, "ses:SendEmail");
        assertThat(mail).hasSize(1);
        assertThat(json(mail.get(0).get("Resource"))).contains(":identity/approvals@corp.example.org");
        assertThat(mail.get(0).get("Condition")).isEqualTo(Map.of("StringEquals",
                Map.of("ses:FromAddress", "approvals@corp.example.org")));
        assertThat(s.environmentOf(notifier)).containsEntry("POLICYGATE_SES_FROM", "approvals@corp.example.org");
        s.template().hasResourceProperties("AWS::SES::EmailIdentity", Map.of(
                "EmailIdentity", "approvals@corp.example.org"));
    }

    @Test
    void tableAccess_isLimitedToTheTableAndItsNamedIndexes() {
        String table = firstKey("AWS::DynamoDB::Table");
        for (String fn : functions()) {
            List<Map<String, Object>> st = statementsWith(fn, "dynamodb:PutItem");
            assertThat(st).as(fn).hasSize(1);
            String resources = json(st.get(0).get("Resource"));
            assertThat(resources).contains("\"" + table + "\"", "/index/" + PolicygateTable.BY_PRINCIPAL,
                    "/index/" + PolicygateTable.BY_STATUS, "/index/" + PolicygateTable.BY_DAY)
                    .doesNotContain("/index/*");
        }
    }

    @Test
    void bucketAccess_followsEachFunctionsNeed_byPrefix() {
        assertThat(objectGrants(gateway)).containsExactlyInAnyOrder(
                "s3:GetObject sessions/*", "s3:PutObject sessions/*", "s3:GetObject held/*", "s3:PutObject held/*",
                "s3:DeleteObject held/*");
        assertThat(objectGrants(notifier)).containsExactlyInAnyOrder("s3:GetObject held/*");
        assertThat(objectGrants(callback)).containsExactlyInAnyOrder("s3:PutObject sessions/*");
        assertThat(objectGrants(forward)).containsExactlyInAnyOrder(
                "s3:GetObject sessions/*", "s3:PutObject sessions/*", "s3:GetObject held/*", "s3:PutObject held/*",
                "s3:DeleteObject held/*");
        for (String fn : functions()) {
            for (Map<String, Object> st : statementsWith(fn, "kms:Decrypt")) {
                assertThat(json(st.get("Condition"))).as(fn + " uses the key through S3 only")
                        .contains("kms:ViaService");
            }
        }
    }

    @Test
    void secrets_areReadOnlyByTheFunctionsThatNeedThem() {
        String anthropic = secret("AnthropicApiKey");
        String link = secret("LinkSigningKey");
        assertThat(secretsReadBy(gateway)).containsExactlyInAnyOrder(anthropic, link);
        assertThat(secretsReadBy(forward)).containsExactlyInAnyOrder(anthropic, link);
        assertThat(secretsReadBy(notifier)).containsExactly(link);
        assertThat(secretsReadBy(callback)).containsExactly(link);
        for (String fn : functions()) {
            assertThat(s.environmentOf(fn).get("POLICYGATE_LINK_KEY_SECRET_ARN")).isEqualTo(Map.of("Ref", link));
        }
        assertThat(s.environmentOf(gateway).get(AwsSettings.API_KEY_SECRET_ARN)).isEqualTo(Map.of("Ref", anthropic));
        assertThat(s.environmentOf(gateway)).doesNotContainKey("POLICYGATE_BEDROCK_PROFILE_PREFIX");
        assertThat(actionsOf(gateway)).noneMatch(a -> a.startsWith("bedrock:"));
    }

    @Test
    void gatewayEnvironment_carriesEverySettingItReads() {
        Map<String, Object> env = s.environmentOf(gateway);
        assertThat(env).containsKeys(AwsSettings.TABLE, AwsSettings.BUCKET, AwsSettings.KMS_KEY_ID,
                AwsSettings.UPSTREAM_URL, AwsSettings.API_KEY_SECRET_ARN, AwsSettings.PUBLIC_URL,
                AwsSettings.FAIL_OPEN, AwsSettings.RETENTION_DAYS, AwsSettings.MAX_BODY_BYTES,
                "POLICYGATE_STATE_MACHINE_ARN", "POLICYGATE_APPROVAL_TIMEOUT_SECONDS",
                "POLICYGATE_LINK_KEY_SECRET_ARN", "POLICYGATE_UPSTREAM");
        assertThat(env).containsEntry("POLICYGATE_UPSTREAM", "anthropic")
                .containsEntry("POLICYGATE_APPROVAL_TIMEOUT_SECONDS", "3600")
                .containsEntry(AwsSettings.UPSTREAM_URL, "https://api.anthropic.com");
        assertThat(env).doesNotContainKey(AwsSettings.OIDC_ISSUER);
        assertThat(s.environmentOf(notifier)).containsEntry("POLICYGATE_APPROVAL_TIMEOUT_SECONDS", "3600");
        // the public URL is the stage URL, built without a dependency cycle through the deployment
        assertThat(json(env.get(AwsSettings.PUBLIC_URL))).contains("execute-api", "/" + PolicygateStack.STAGE);
    }

    // ------------------------------------------------------------ storage

    @Test
    void recordingsBucket_isKmsEncryptedWithTheCustomerKey_versioned_private_sslOnly_andLogged() {
        String key = firstKey("AWS::KMS::Key");
        s.template().hasResourceProperties("AWS::KMS::Key", Map.of("EnableKeyRotation", true));
        s.template().hasResourceProperties("AWS::S3::Bucket", Map.of(
                "BucketEncryption", Map.of("ServerSideEncryptionConfiguration", List.of(Map.of(
                        "BucketKeyEnabled", true,
                        "ServerSideEncryptionByDefault", Map.of("SSEAlgorithm", "aws:kms",
                                "KMSMasterKeyID", Map.of("Fn::GetAtt", List.of(key, "Arn")))))),
                "VersioningConfiguration", Map.of("Status", "Enabled"),
                "PublicAccessBlockConfiguration", Map.of("BlockPublicAcls", true, "BlockPublicPolicy", true,
                        "IgnorePublicAcls", true, "RestrictPublicBuckets", true),
                "LoggingConfiguration", Match.objectLike(Map.of("LogFilePrefix", "recordings/"))));
        for (Map<String, Object> policy : s.resources("AWS::S3::BucketPolicy").values()) {
            assertThat(json(props(policy).get("PolicyDocument"))).contains("aws:SecureTransport");
        }
        assertThat(s.resources("AWS::S3::BucketPolicy")).hasSize(2);
        s.template().hasResource("AWS::S3::Bucket", Map.of("DeletionPolicy", "Retain",
                "Properties", Match.objectLike(Map.of("BucketEncryption", Match.anyValue(),
                        "LoggingConfiguration", Match.anyValue()))));
    }

    @Test
    void recordingsBucket_movesRecordingsToCheaperTiers_andExpiresHeldRequestsAfterTheApprovalTimeoutPlusADay() {
        String lifecycle = json(s.properties(recordingsBucket()).get("LifecycleConfiguration"));
        assertThat(lifecycle).contains("\"Prefix\":\"sessions/\"", "STANDARD_IA", "GLACIER_IR");
        s.template().hasResourceProperties("AWS::S3::Bucket", Map.of("LifecycleConfiguration", Map.of(
                "Rules", Match.arrayWith(List.of(Match.objectLike(Map.of(
                        "Id", "expire-held-requests", "Prefix", "held/", "Status", "Enabled",
                        // 3600 s rounds up to one day, plus one day
                        "ExpirationInDays", 2)))))));
        assertThat(s.properties(recordingsBucket())).doesNotContainKey("ObjectLockEnabled");
    }

    @Test
    void table_isOnDemand_withPitr_ttl_theIndexesTheCodeQueries_andRetained() {
        s.template().hasResource("AWS::DynamoDB::Table", Map.of(
                "DeletionPolicy", "Retain", "UpdateReplacePolicy", "Retain"));
        s.template().hasResourceProperties("AWS::DynamoDB::Table", Map.of(
                "BillingMode", "PAY_PER_REQUEST",
                "KeySchema", List.of(Map.of("AttributeName", PolicygateTable.PK, "KeyType", "HASH")),
                "PointInTimeRecoverySpecification", Map.of("PointInTimeRecoveryEnabled", true),
                "TimeToLiveSpecification", Map.of("AttributeName", PolicygateTable.TTL_ATTRIBUTE, "Enabled", true)));
        String indexes = json(s.properties(firstKey("AWS::DynamoDB::Table")).get("GlobalSecondaryIndexes"));
        for (String[] ix : List.of(
                new String[] {PolicygateTable.BY_PRINCIPAL, PolicygateTable.GSI1_PK, PolicygateTable.GSI1_SK},
                new String[] {PolicygateTable.BY_STATUS, PolicygateTable.GSI2_PK, PolicygateTable.GSI2_SK},
                new String[] {PolicygateTable.BY_DAY, PolicygateTable.GSI3_PK, PolicygateTable.GSI3_SK})) {
            assertThat(indexes).contains("\"IndexName\":\"" + ix[0] + "\"",
                    "{\"AttributeName\":\"" + ix[1] + "\",\"KeyType\":\"HASH\"}",
                    "{\"AttributeName\":\"" + ix[2] + "\",\"KeyType\":\"RANGE\"}");
        }
        assertThat(indexes).contains("\"ProjectionType\":\"ALL\"");
    }

    // ------------------------------------------------------------ approval workflow

    @Test
    void stateMachine_isStandard_logged_traced_andEveryPlaceholderResolvesToALiveAlias() throws Exception {
        String sm = firstKey("AWS::StepFunctions::StateMachine");
        Map<String, Object> p = s.properties(sm);
        assertThat(p.get("StateMachineType")).isEqualTo("STANDARD");
        assertThat(p.get("TracingConfiguration")).isEqualTo(Map.of("Enabled", true));
        assertThat(json(p.get("LoggingConfiguration"))).contains("\"Level\":\"ALL\"", "\"IncludeExecutionData\":false");

        String definition = Files.readString(Path.of(System.getProperty(PolicygateApp.REPO_ROOT))
                .resolve("statemachines/approval.asl.json"));
        Set<String> placeholders = new TreeSet<>();
        Matcher m = Pattern.compile("\\$\\{([A-Za-z0-9]+)}").matcher(json(p.get("DefinitionString")));
        while (m.find()) {
            placeholders.add(m.group(1));
        }
        Matcher inFile = Pattern.compile("\\$\\{([A-Za-z0-9]+)}").matcher(definition);
        Set<String> fromFile = new TreeSet<>();
        while (inFile.find()) {
            fromFile.add(inFile.group(1));
        }
        // the comment mentions ${...} generically; every named placeholder must have a substitution
        fromFile.remove("...");
        @SuppressWarnings("unchecked")
        Map<String, Object> substitutions = (Map<String, Object>) p.get("DefinitionSubstitutions");
        assertThat(substitutions.keySet()).containsExactlyInAnyOrderElementsOf(placeholders)
                .containsExactlyInAnyOrderElementsOf(fromFile);
        assertThat(substitutions.get("NotifierFunctionArn")).isEqualTo(Map.of("Ref", s.alias(notifier)));
        assertThat(substitutions.get("ForwardFunctionArn")).isEqualTo(Map.of("Ref", s.alias(forward)));

        String smRole = (String) ((List<?>) ((Map<?, ?>) p.get("RoleArn")).get("Fn::GetAtt")).get(0);
        List<Map<String, Object>> invoke = s.statementsOf(smRole).stream()
                .filter(st -> strings(st.get("Action")).contains("lambda:InvokeFunction")).toList();
        assertThat(invoke).hasSize(1);
        assertThat(json(invoke.get(0).get("Resource")))
                .contains("\"" + s.alias(notifier) + "\"", "\"" + s.alias(forward) + "\"")
                .doesNotContain(":*");
    }

    // ------------------------------------------------------------ observability and outputs

    @Test
    void alarms_cover5xxRate_upstreamErrors_writeAheadFailures_andApprovalFailures() {
        String alarms = json(s.resources("AWS::CloudWatch::Alarm"));
        assertThat(alarms).contains("100 * errors / requests", "\"MetricName\":\"UpstreamError\"",
                "\"MetricName\":\"WriteAheadFailed\"", "\"MetricName\":\"ExecutionsFailed\"",
                "\"Namespace\":\"" + PolicygateStack.METRICS_NAMESPACE + "\"");
        s.template().resourceCountIs("AWS::CloudWatch::Dashboard", 1);
        s.template().hasResourceProperties("AWS::SNS::Topic", Map.of("KmsMasterKeyId", Match.anyValue()));
    }

    @Test
    void outputs_nameTheApiUrl_bucket_table_stateMachine_andTheSecretToFill() {
        for (String out : List.of(PolicygateStack.OUTPUT_API_URL, PolicygateStack.OUTPUT_BUCKET,
                PolicygateStack.OUTPUT_TABLE, PolicygateStack.OUTPUT_STATE_MACHINE,
                PolicygateStack.OUTPUT_API_KEY_SECRET)) {
            s.template().hasOutput(out, Match.objectLike(Map.of("Value", Match.anyValue())));
        }
    }

    // ------------------------------------------------------------ helpers

    private static String firstKey(String type) {
        Map<String, Map<String, Object>> r = s.resources(type);
        assertThat(r).as(type).hasSize(1);
        return r.keySet().iterator().next();
    }

    private static String recordingsBucket() {
        return s.resources("AWS::S3::Bucket").entrySet().stream()
                .filter(e -> json(props(e.getValue()).get("BucketEncryption")).contains("aws:kms"))
                .map(Map.Entry::getKey).findFirst().orElseThrow();
    }

    private static String secret(String idPrefix) {
        return s.resources("AWS::SecretsManager::Secret").keySet().stream().filter(k -> k.startsWith(idPrefix))
                .findFirst().orElseThrow();
    }

    private static List<String> actionsOf(String fn) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> st : s.statementsOf(s.roleOf(fn))) {
            out.addAll(strings(st.get("Action")));
        }
        return out;
    }

    private static List<Map<String, Object>> statementsWith(String fn, String action) {
        return s.statementsOf(s.roleOf(fn)).stream().filter(st -> strings(st.get("Action")).contains(action)).toList();
    }

    private static Set<String> objectGrants(String fn) {
        Set<String> out = new TreeSet<>();
        for (Map<String, Object> st : s.statementsOf(s.roleOf(fn))) {
            for (String a : strings(st.get("Action"))) {
                boolean objectAction = a.equals("s3:GetObject") || a.equals("s3:PutObject")
                        || a.equals("s3:DeleteObject");
                if (!objectAction && a.startsWith("s3:") && !a.equals("s3:ListBucket")) {
                    out.add(a + " (unexpected)");
                }
                if (objectAction) {
                    Object r = st.get("Resource");
                    List<?> resources = r instanceof List<?> l ? l : List.of(r);
                    for (Object res : resources) {
                        String text = json(res);
                        Matcher m = Pattern.compile("/([a-z]+/\\*)").matcher(text);
                        out.add(a + " " + (m.find() ? m.group(1) : text));
                    }
                }
            }
        }
        return out;
    }

    private static Set<String> secretsReadBy(String fn) {
        Set<String> out = new TreeSet<>();
        for (Map<String, Object> st : statementsWith(fn, "secretsmanager:GetSecretValue")) {
            Object r = st.get("Resource");
            for (Object res : r instanceof List<?> l ? l : List.of(r)) {
                out.add((String) ((Map<?, ?>) res).get("Ref"));
            }
        }
        return out;
    }

    static List<String> strings(Object value) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> l) {
            List<String> out = new ArrayList<>();
            for (Object o : l) {
                out.add(o instanceof String str ? str : json(o));
            }
            return out;
        }
        return List.of(value instanceof String str ? str : json(value));
    }
}
