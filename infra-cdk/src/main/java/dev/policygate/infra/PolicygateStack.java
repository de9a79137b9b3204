package dev.policygate.infra;

import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import software.amazon.awscdk.Annotations;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Fn;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.apigateway.AccessLogFormat;
import software.amazon.awscdk.services.apigateway.EndpointType;
import software.amazon.awscdk.services.apigateway.GatewayResponseOptions;
import software.amazon.awscdk.services.apigateway.JsonSchema;
import software.amazon.awscdk.services.apigateway.JsonSchemaType;
import software.amazon.awscdk.services.apigateway.JsonSchemaVersion;
import software.amazon.awscdk.services.apigateway.LambdaIntegration;
import software.amazon.awscdk.services.apigateway.LambdaIntegrationOptions;
import software.amazon.awscdk.services.apigateway.LogGroupLogDestination;
import software.amazon.awscdk.services.apigateway.MethodLoggingLevel;
import software.amazon.awscdk.services.apigateway.MethodOptions;
import software.amazon.awscdk.services.apigateway.Model;
import software.amazon.awscdk.services.apigateway.ModelOptions;
import software.amazon.awscdk.services.apigateway.RequestValidator;
import software.amazon.awscdk.services.apigateway.RequestValidatorOptions;
import software.amazon.awscdk.services.apigateway.Resource;
import software.amazon.awscdk.services.apigateway.ResponseType;
import software.amazon.awscdk.services.apigateway.RestApi;
import software.amazon.awscdk.services.apigateway.StageOptions;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.cloudwatch.ComparisonOperator;
import software.amazon.awscdk.services.cloudwatch.Dashboard;
import software.amazon.awscdk.services.cloudwatch.GraphWidget;
import software.amazon.awscdk.services.cloudwatch.IMetric;
import software.amazon.awscdk.services.cloudwatch.MathExpression;
import software.amazon.awscdk.services.cloudwatch.Metric;
import software.amazon.awscdk.services.cloudwatch.TreatMissingData;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.cognito.AccountRecovery;
import software.amazon.awscdk.services.cognito.AuthFlow;
import software.amazon.awscdk.services.cognito.CognitoDomainOptions;
import software.amazon.awscdk.services.cognito.Mfa;
import software.amazon.awscdk.services.cognito.OAuthFlows;
import software.amazon.awscdk.services.cognito.OAuthScope;
import software.amazon.awscdk.services.cognito.OAuthSettings;
import software.amazon.awscdk.services.cognito.PasswordPolicy;
import software.amazon.awscdk.services.cognito.StringAttribute;
import software.amazon.awscdk.services.cognito.UserPool;
import software.amazon.awscdk.services.cognito.UserPoolClient;
import software.amazon.awscdk.services.cognito.UserPoolClientIdentityProvider;
import software.amazon.awscdk.services.cognito.UserPoolDomain;
import software.amazon.awscdk.services.cognito.UserPoolIdentityProviderSaml;
import software.amazon.awscdk.services.cognito.UserPoolIdentityProviderSamlMetadata;
import software.amazon.awscdk.services.cognito.AttributeMapping;
import software.amazon.awscdk.services.cognito.ProviderAttribute;
import software.amazon.awscdk.services.dynamodb.Attribute;
import software.amazon.awscdk.services.dynamodb.AttributeType;
import software.amazon.awscdk.services.dynamodb.BillingMode;
import software.amazon.awscdk.services.dynamodb.GlobalSecondaryIndexProps;
import software.amazon.awscdk.services.dynamodb.PointInTimeRecoverySpecification;
import software.amazon.awscdk.services.dynamodb.ProjectionType;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.dynamodb.TableEncryption;
import software.amazon.awscdk.services.iam.Effect;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.s3.BlockPublicAccess;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.BucketEncryption;
import software.amazon.awscdk.services.s3.LifecycleRule;
import software.amazon.awscdk.services.s3.ObjectLockRetention;
import software.amazon.awscdk.services.s3.ObjectOwnership;
import software.amazon.awscdk.services.s3.StorageClass;
import software.amazon.awscdk.services.s3.Transition;
import software.amazon.awscdk.services.secretsmanager.Secret;
import software.amazon.awscdk.services.secretsmanager.SecretStringGenerator;
import software.amazon.awscdk.services.ses.EmailIdentity;
import software.amazon.awscdk.services.ses.Identity;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.sns.subscriptions.EmailSubscription;
import software.amazon.awscdk.services.stepfunctions.DefinitionBody;
import software.amazon.awscdk.services.stepfunctions.LogLevel;
import software.amazon.awscdk.services.stepfunctions.LogOptions;
import software.amazon.awscdk.services.stepfunctions.StateMachine;
import software.amazon.awscdk.services.stepfunctions.StateMachineType;
import software.amazon.awscdk.services.wafv2.CfnWebACL;
import software.amazon.awscdk.services.wafv2.CfnWebACLAssociation;
import software.constructs.Construct;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Policygate on AWS, laid out like the architecture diagram: the REST API in front of the gateway
 * and approval-callback functions, the approval state machine driving the notifier and forward
 * functions, and the table, bucket, key and secrets they share. Every function has its own role
 * holding only the actions and resources it uses; nothing grants a data action on {@code *}.
 */
public final class PolicygateStack extends Stack {
    public static final String STAGE = "prod";
    public static final String GATEWAY_HANDLER = "dev.policygate.aws.lambda.GatewayHandler::handleRequest";
    public static final String CALLBACK_HANDLER = "dev.policygate.aws.lambda.ApprovalCallbackHandler::handleRequest";
    public static final String NOTIFIER_HANDLER = "dev.policygate.aws.lambda.ApprovalNotifierHandler::handleRequest";
    public static final String FORWARD_HANDLER = "dev.policygate.aws.lambda.ForwardHandler::handleRequest";

    /** Prefix of the session recordings ({@code sessions/yyyy/mm/dd/<id>.json.gz}). */
    public static final String SESSIONS_PREFIX = "sessions/";
    /** Prefix of the sealed held requests of pending approvals. */
    public static final String HELD_PREFIX = "held/";
    /**
     * Memory of the gateway and forward functions, sized from measurement: heap after GC under
     * load is about 35 MB, and the policy, masking and recording work is about 1 ms of CPU per
     * request, while the function mostly waits for Claude (seconds, billed per GB-second). 1 GB
     * gives enough CPU for INIT and the first requests (SnapStart restores the rest); 2 GB would
     * double the cost of every second spent waiting.
     */
    static final int FUNCTION_MEMORY_MB = 1024;

    // the table layout of dev.policygate.aws.dynamodb.PolicygateTable (the tests check they agree)
    static final String PK = "pk";
    static final String TTL_ATTRIBUTE = "expires_at";
    static final List<String[]> INDEXES = List.of(
            new String[] {"by-principal", "gsi1pk", "gsi1sk"},
            new String[] {"by-status", "gsi2pk", "gsi2sk"},
            new String[] {"by-day", "gsi3pk", "gsi3sk"});

    public static final String OUTPUT_API_URL = "ApiUrl";
    public static final String OUTPUT_BUCKET = "RecordingsBucketName";
    public static final String OUTPUT_TABLE = "TableName";
    public static final String OUTPUT_STATE_MACHINE = "ApprovalStateMachineArn";
    public static final String OUTPUT_API_KEY_SECRET = "AnthropicApiKeySecretArn";
    public static final String OUTPUT_DASHBOARD = "DashboardName";

    /** CloudWatch namespace of the functions' EMF counters. */
    public static final String METRICS_NAMESPACE = "Policygate";

    private final PolicygateConfig config;
    private final Key key;
    private final Bucket recordings;
    private final Table table;
    private final Secret anthropicKey;
    private final Secret linkKey;
    private final String publicUrl;
    private final RestApi api;
    private final LiveFunction gateway;
    private final LiveFunction callback;
    private final LiveFunction notifier;
    private final LiveFunction forward;
    private final StateMachine approvals;

    /**
     * @param lambdaJar the Lambda deployment package ({@code functions/target/policygate-lambda.jar})
     * @param asl       the approval state machine's definition ({@code statemachines/approval.asl.json})
     */
    public PolicygateStack(Construct scope, String id, StackProps props, PolicygateConfig config, Path lambdaJar,
                           Path asl) {
        super(scope, id, props);
        this.config = config;
        key = createKey();
        Bucket accessLogs = createAccessLogBucket();
        recordings = createRecordingsBucket(accessLogs);
        table = createTable();
        anthropicKey = createAnthropicKeySecret();
        linkKey = createLinkKeySecret();
        api = createApi();
        publicUrl = config.publicUrl() != null ? config.publicUrl() : Fn.join("", List.of("https://",
                api.getRestApiId(), ".execute-api.", Aws.REGION, ".", Aws.URL_SUFFIX, "/", STAGE));
        EmailIdentity sender = createSenderIdentity();
        OidcSettings oidc = createIdentity();

        Code code = Code.fromAsset(lambdaJar.toString());
        gateway = createGatewayFunction(code, oidc);
        callback = createCallbackFunction(code, oidc);
        notifier = createNotifierFunction(code, sender);
        forward = createForwardFunction(code);
        approvals = createApprovalStateMachine(asl);
        allowApprovalWorkflow();
        routeApi();
        if (config.waf()) {
            createWebAcl();
        }
        createObservability();
        createOutputs();
        suppressNagFindings(accessLogs);
    }

    // ---------------------------------------------------------------- storage

    private Key createKey() {
        return Key.Builder.create(this, "RecordingsKey")
                .description("Policygate: SSE-KMS for the session recordings and sealed held requests")
                .enableKeyRotation(true)
                .alias("alias/policygate-recordings-" + getStackName().toLowerCase())
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
    }

    private Bucket createAccessLogBucket() {
        // S3 server access logs can only be delivered to an SSE-S3 bucket
        return Bucket.Builder.create(this, "AccessLogs")
                .encryption(BucketEncryption.S3_MANAGED)
                .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
                .enforceSsl(true)
                .versioned(true)
                .objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED)
                .lifecycleRules(List.of(LifecycleRule.builder().id("expire-access-logs")
                        .expiration(Duration.days(365)).noncurrentVersionExpiration(Duration.days(30)).build()))
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
    }

    private Bucket createRecordingsBucket(Bucket accessLogs) {
        List<LifecycleRule> rules = new ArrayList<>();
        rules.add(LifecycleRule.builder().id("recordings-to-cheaper-tiers")
                .prefix(SESSIONS_PREFIX)
                .transitions(List.of(
                        Transition.builder().storageClass(StorageClass.INFREQUENT_ACCESS)
                                .transitionAfter(Duration.days(30)).build(),
                        Transition.builder().storageClass(StorageClass.GLACIER_INSTANT_RETRIEVAL)
                                .transitionAfter(Duration.days(90)).build()))
                .noncurrentVersionExpiration(Duration.days(90))
                .build());
        // a held request is only needed until its approval is decided or has timed out
        rules.add(LifecycleRule.builder().id("expire-held-requests")
                .prefix(HELD_PREFIX)
                .expiration(Duration.days(config.heldRequestExpiryDays()))
                .noncurrentVersionExpiration(Duration.days(1))
                .build());
        rules.add(LifecycleRule.builder().id("abort-incomplete-uploads")
                .abortIncompleteMultipartUploadAfter(Duration.days(7)).build());
        Bucket.Builder b = Bucket.Builder.create(this, "Recordings")
                .encryption(BucketEncryption.KMS)
                .encryptionKey(key)
                .bucketKeyEnabled(true)
                .versioned(true)
                .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
                .enforceSsl(true)
                .objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED)
                .serverAccessLogsBucket(accessLogs)
                .serverAccessLogsPrefix("recordings/")
                .lifecycleRules(rules)
                .removalPolicy(RemovalPolicy.RETAIN);
        if (config.objectLock()) {
            b.objectLockEnabled(true)
                    .objectLockDefaultRetention(ObjectLockRetention.governance(Duration.days(config.objectLockDays())));
        }
        return b.build();
    }

    private Table createTable() {
        Table t = Table.Builder.create(this, "Table")
                .partitionKey(Attribute.builder().name(PK).type(AttributeType.STRING).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .pointInTimeRecoverySpecification(PointInTimeRecoverySpecification.builder()
                        .pointInTimeRecoveryEnabled(true).build())
                .timeToLiveAttribute(TTL_ATTRIBUTE)
                .encryption(TableEncryption.AWS_MANAGED)
                .deletionProtection(true)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        for (String[] index : INDEXES) {
            t.addGlobalSecondaryIndex(GlobalSecondaryIndexProps.builder()
                    .indexName(index[0])
                    .partitionKey(Attribute.builder().name(index[1]).type(AttributeType.STRING).build())
                    .sortKey(Attribute.builder().name(index[2]).type(AttributeType.STRING).build())
                    .projectionType(ProjectionType.ALL)
                    .build());
        }
        return t;
    }

    private Secret createAnthropicKeySecret() {
        // the value is a placeholder until the operator puts the real key (see infra-cdk/README.md)
        return Secret.Builder.create(this, "AnthropicApiKey")
                .description("Policygate: the Anthropic API key the gateway forwards with. Put the real key after deploy.")
                .generateSecretString(SecretStringGenerator.builder()
                        .passwordLength(32).excludePunctuation(true).build())
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
    }

    private Secret createLinkKeySecret() {
        return Secret.Builder.create(this, "LinkSigningKey")
                .description("Policygate: signs approval links and seals held requests. Generated; never leaves AWS.")
                .generateSecretString(SecretStringGenerator.builder()
                        .passwordLength(64).excludePunctuation(true).build())
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
    }

    // ---------------------------------------------------------------- identity and mail

    private EmailIdentity createSenderIdentity() {
        if (config.sesFrom().equals(PolicygateConfig.PLACEHOLDER_SENDER)) {
            Annotations.of(this).addWarningV2("policygate:placeholderSender", "no sesFrom context: approval emails "
                    + "are sent from " + PolicygateConfig.PLACEHOLDER_SENDER + " and will not arrive. Deploy with "
                    + "-c sesFrom=approvals@your-domain");
        }
        String identity = config.sesIdentity();
        return EmailIdentity.Builder.create(this, "SenderIdentity")
                .identity(identity.contains("@") ? Identity.email(identity) : Identity.domain(identity))
                .build();
    }

    private String sesIdentityArn() {
        return "arn:" + Aws.PARTITION + ":ses:" + Aws.REGION + ":" + Aws.ACCOUNT_ID + ":identity/"
                + config.sesIdentity();
    }

    /** What the functions are told about accepted JWTs; all null when only gateway keys are accepted. */
    private record OidcSettings(String issuer, String audience, String jwksUrl, String groupsClaim) {
    }

    private OidcSettings createIdentity() {
        if (!config.cognitoSaml()) {
            return new OidcSettings(config.oidcIssuer(), config.oidcAudience(), config.oidcJwksUrl(),
                    config.oidcIssuer() == null ? null : config.oidcGroupsClaim());
        }
        UserPool pool = UserPool.Builder.create(this, "UserPool")
                .selfSignUpEnabled(false)
                .signInCaseSensitive(false)
                .passwordPolicy(PasswordPolicy.builder().minLength(14).requireDigits(true).requireLowercase(true)
                        .requireUppercase(true).requireSymbols(true).build())
                .mfa(Mfa.OPTIONAL)
                // TOTP only: SMS would need a role that may publish to any phone number
                .mfaSecondFactor(software.amazon.awscdk.services.cognito.MfaSecondFactor.builder()
                        .sms(false).otp(true).build())
                .accountRecovery(AccountRecovery.NONE)
                .customAttributes(Map.of("groups", StringAttribute.Builder.create().mutable(true).maxLen(2048).build()))
                .deletionProtection(true)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        UserPoolIdentityProviderSaml saml = UserPoolIdentityProviderSaml.Builder.create(this, "SamlIdp")
                .userPool(pool)
                .name("corporate-saml")
                .metadata(UserPoolIdentityProviderSamlMetadata.url(config.samlMetadataUrl()))
                .attributeMapping(AttributeMapping.builder()
                        .email(ProviderAttribute.other("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"))
                        .custom(Map.of("custom:groups", ProviderAttribute.other(config.samlGroupsAttribute())))
                        .build())
                .build();
        UserPoolDomain.Builder.create(this, "UserPoolDomain").userPool(pool)
                .cognitoDomain(CognitoDomainOptions.builder().domainPrefix(config.cognitoDomainPrefix()).build())
                .build();
        UserPoolClient client = pool.addClient("GatewayClient", software.amazon.awscdk.services.cognito.UserPoolClientOptions.builder()
                .generateSecret(false)
                .authFlows(AuthFlow.builder().build())
                .supportedIdentityProviders(List.of(UserPoolClientIdentityProvider.custom(saml.getProviderName())))
                .oAuth(OAuthSettings.builder()
                        .flows(OAuthFlows.builder().authorizationCodeGrant(true).build())
                        .scopes(List.of(OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE))
                        .callbackUrls(config.cognitoCallbackUrls())
                        .build())
                .idTokenValidity(Duration.hours(1))
                .accessTokenValidity(Duration.hours(1))
                .refreshTokenValidity(Duration.hours(12))
                .preventUserExistenceErrors(true)
                .build());
        client.getNode().addDependency(saml);
        String issuer = "https://cognito-idp." + Aws.REGION + "." + Aws.URL_SUFFIX + "/" + pool.getUserPoolId();
        new CfnOutput(this, "CognitoIssuer", software.amazon.awscdk.CfnOutputProps.builder().value(issuer)
                .description("OIDC issuer of the Cognito user pool (SAML federation)").build());
        new CfnOutput(this, "CognitoClientId", software.amazon.awscdk.CfnOutputProps.builder()
                .value(client.getUserPoolClientId()).description("Audience of the ID tokens the gateway accepts").build());
        // Cognito ID tokens carry the app client id as aud; SAML groups arrive in custom:groups
        return new OidcSettings(issuer, client.getUserPoolClientId(), issuer + "/.well-known/jwks.json",
                config.oidcGroupsClaim());
    }

    // ---------------------------------------------------------------- functions

    private Map<String, String> commonEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("POLICYGATE_TABLE", table.getTableName());
        env.put("POLICYGATE_BUCKET", recordings.getBucketName());
        env.put("POLICYGATE_KMS_KEY_ID", key.getKeyArn());
        env.put("POLICYGATE_RETENTION_DAYS", Integer.toString(config.retentionDays()));
        env.put("POLICYGATE_LINK_KEY_SECRET_ARN", linkKey.getSecretArn());
        env.put("POLICYGATE_PUBLIC_URL", publicUrl);
        env.put("POWERTOOLS_SERVICE_NAME", "policygate");
        return env;
    }

    private void putUpstream(Map<String, String> env) {
        env.put("POLICYGATE_UPSTREAM", config.bedrock() ? "bedrock" : "anthropic");
        // the settings reader requires the secret ARN even when Bedrock is the upstream; it is then never read
        env.put("ANTHROPIC_API_KEY_SECRET_ARN", anthropicKey.getSecretArn());
        if (config.bedrock()) {
            // "none": in-region model ids (an empty variable would read as unset)
            env.put("POLICYGATE_BEDROCK_PROFILE_PREFIX",
                    config.bedrockProfilePrefix().isEmpty() ? "none" : config.bedrockProfilePrefix());
        } else {
            env.put("POLICYGATE_UPSTREAM_URL", config.upstreamUrl());
        }
    }

    private void putOidc(Map<String, String> env, OidcSettings oidc) {
        if (oidc.issuer() != null) {
            env.put("POLICYGATE_OIDC_ISSUER", oidc.issuer());
            env.put("POLICYGATE_OIDC_AUDIENCE", oidc.audience());
            env.put("POLICYGATE_OIDC_JWKS_URL", oidc.jwksUrl());
            env.put("POLICYGATE_OIDC_GROUPS_CLAIM", oidc.groupsClaim());
        }
    }

    private LiveFunction createGatewayFunction(Code code, OidcSettings oidc) {
        Map<String, String> env = commonEnvironment();
        putUpstream(env);
        putOidc(env, oidc);
        env.put("POLICYGATE_FAIL_OPEN", Boolean.toString(config.failOpen()));
        env.put("POLICYGATE_MAX_BODY_BYTES", Integer.toString(config.maxBodyBytes()));
        env.put("POLICYGATE_APPROVAL_TIMEOUT_SECONDS", Integer.toString(config.approvalTimeoutSeconds()));
        // POLICYGATE_STATE_MACHINE_ARN is added once the state machine exists
        // The function ends (and records) its own 504 before API Gateway would cut the connection.
        LiveFunction f = new LiveFunction(this, "Gateway", new LiveFunction.Props(GATEWAY_HANDLER,
                "Policygate gateway: authenticate, decide, mask, forward, record (/v1/*)", code, FUNCTION_MEMORY_MB,
                Duration.seconds(config.integrationTimeoutSeconds()), env));
        f.allow(tableReadWrite());
        f.allow(objects(List.of("s3:GetObject", "s3:PutObject"), SESSIONS_PREFIX, HELD_PREFIX));
        // a held request is deleted as soon as it is decided (the lifecycle rule only sweeps leftovers)
        f.allow(objects(List.of("s3:DeleteObject"), HELD_PREFIX));
        f.allow(listObjects(SESSIONS_PREFIX, HELD_PREFIX));
        f.allow(recordingsKeyUse());
        f.allow(readSecrets(anthropicKey, linkKey));
        allowUpstream(f);
        return f;
    }

    private LiveFunction createCallbackFunction(Code code, OidcSettings oidc) {
        Map<String, String> env = commonEnvironment();
        putOidc(env, oidc);
        LiveFunction f = new LiveFunction(this, "ApprovalCallback", new LiveFunction.Props(CALLBACK_HANDLER,
                "Policygate approval callback: verify the signed link, check the approver, resume the workflow "
                        + "(/approvals/*)", code, 1024, Duration.seconds(20), env));
        f.allow(tableReadWrite());
        f.allow(objects(List.of("s3:PutObject"), SESSIONS_PREFIX));
        f.allow(recordingsKeyUse());
        f.allow(readSecrets(linkKey));
        return f;
    }

    private LiveFunction createNotifierFunction(Code code, EmailIdentity sender) {
        Map<String, String> env = commonEnvironment();
        env.put("POLICYGATE_APPROVAL_TIMEOUT_SECONDS", Integer.toString(config.approvalTimeoutSeconds()));
        env.put("POLICYGATE_SES_FROM", config.sesFrom());
        if (config.sesConfigurationSet() != null) {
            env.put("POLICYGATE_SES_CONFIGURATION_SET", config.sesConfigurationSet());
        }
        LiveFunction f = new LiveFunction(this, "ApprovalNotifier", new LiveFunction.Props(NOTIFIER_HANDLER,
                "Policygate approval notifier: store the task token, email each approver a signed link", code, 1024,
                Duration.seconds(60), env));
        f.allow(tableReadWrite());
        f.allow(objects(List.of("s3:GetObject"), HELD_PREFIX));
        f.allow(listObjects(HELD_PREFIX));
        f.allow(recordingsKeyUse());
        f.allow(readSecrets(linkKey));
        List<String> sesResources = new ArrayList<>(List.of(sesIdentityArn()));
        if (config.sesConfigurationSet() != null) {
            sesResources.add("arn:" + Aws.PARTITION + ":ses:" + Aws.REGION + ":" + Aws.ACCOUNT_ID
                    + ":configuration-set/" + config.sesConfigurationSet());
        }
        f.allow(PolicyStatement.Builder.create()
                .sid("SendApprovalMailFromTheSenderOnly")
                .actions(List.of("ses:SendEmail"))
                .resources(sesResources)
                .conditions(Map.of("StringEquals", Map.of("ses:FromAddress", config.sesFrom())))
                .build());
        f.function().getNode().addDependency(sender);
        return f;
    }

    private LiveFunction createForwardFunction(Code code) {
        Map<String, String> env = commonEnvironment();
        putUpstream(env);
        // after approval there is no API Gateway in the way: a long generation may take minutes
        LiveFunction f = new LiveFunction(this, "Forward", new LiveFunction.Props(FORWARD_HANDLER,
                "Policygate forward: re-evaluate with the approval, call Claude once, mask, record", code, FUNCTION_MEMORY_MB,
                Duration.minutes(15), env));
        f.allow(tableReadWrite());
        f.allow(objects(List.of("s3:GetObject", "s3:PutObject"), SESSIONS_PREFIX, HELD_PREFIX));
        // a held request is deleted as soon as it is decided (the lifecycle rule only sweeps leftovers)
        f.allow(objects(List.of("s3:DeleteObject"), HELD_PREFIX));
        f.allow(listObjects(SESSIONS_PREFIX, HELD_PREFIX));
        f.allow(recordingsKeyUse());
        f.allow(readSecrets(anthropicKey, linkKey));
        allowUpstream(f);
        return f;
    }

    private void allowUpstream(LiveFunction f) {
        if (!config.bedrock()) {
            return;
        }
        f.allow(PolicyStatement.Builder.create()
                .sid("InvokeAnthropicModelsOnBedrock")
                .actions(List.of("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"))
                .resources(List.of(
                        // foundation models have no account; an inference profile routes to several regions
                        "arn:" + Aws.PARTITION + ":bedrock:*::foundation-model/anthropic.*",
                        "arn:" + Aws.PARTITION + ":bedrock:" + Aws.REGION + ":" + Aws.ACCOUNT_ID
                                + ":inference-profile/*anthropic.*"))
                .build());
    }

    private PolicyStatement tableReadWrite() {
        List<String> resources = new ArrayList<>(List.of(table.getTableArn()));
        for (String[] index : INDEXES) {
            resources.add(table.getTableArn() + "/index/" + index[0]);
        }
        return PolicyStatement.Builder.create()
                .sid("SessionIndexApprovalsAndKeys")
                .actions(List.of("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
                        "dynamodb:ConditionCheckItem"))
                .resources(resources)
                .build();
    }

    private PolicyStatement objects(List<String> actions, String... prefixes) {
        List<String> resources = new ArrayList<>();
        for (String p : prefixes) {
            resources.add(recordings.arnForObjects(p + "*"));
        }
        return PolicyStatement.Builder.create().actions(actions).resources(resources).build();
    }

    /** Without ListBucket a missing object reads as 403 instead of 404; limited to the same prefixes. */
    private PolicyStatement listObjects(String... prefixes) {
        List<String> like = new ArrayList<>();
        for (String p : prefixes) {
            like.add(p + "*");
        }
        return PolicyStatement.Builder.create()
                .actions(List.of("s3:ListBucket"))
                .resources(List.of(recordings.getBucketArn()))
                .conditions(Map.of("StringLike", Map.of("s3:prefix", like)))
                .build();
    }

    /** SSE-KMS: GenerateDataKey to write, Decrypt to read, and only through S3. */
    private PolicyStatement recordingsKeyUse() {
        return PolicyStatement.Builder.create()
                .actions(List.of("kms:Decrypt", "kms:GenerateDataKey"))
                .resources(List.of(key.getKeyArn()))
                .conditions(Map.of("StringEquals", Map.of("kms:ViaService", "s3." + Aws.REGION + ".amazonaws.com")))
                .build();
    }

    private static PolicyStatement readSecrets(Secret... secrets) {
        List<String> arns = new ArrayList<>();
        for (Secret s : secrets) {
            arns.add(s.getSecretArn());
        }
        return PolicyStatement.Builder.create()
                .actions(List.of("secretsmanager:GetSecretValue"))
                .resources(arns)
                .build();
    }

    // ---------------------------------------------------------------- approval workflow

    private StateMachine createApprovalStateMachine(Path asl) {
        String definition;
        try {
            definition = Files.readString(asl);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the approval state machine " + asl, e);
        }
        LogGroup logs = LogGroup.Builder.create(this, "ApprovalLogs")
                .retention(RetentionDays.THREE_MONTHS)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        StateMachine sm = StateMachine.Builder.create(this, "Approval")
                .stateMachineType(StateMachineType.STANDARD)
                .comment("Policygate human approval: notify, wait for the callback, forward or record the outcome")
                // fromString, not fromFile: the definition stays in the template, where tests can read it
                .definitionBody(DefinitionBody.fromString(definition))
                .definitionSubstitutions(Map.of(
                        "NotifierFunctionArn", notifier.alias().getFunctionArn(),
                        "ForwardFunctionArn", forward.alias().getFunctionArn()))
                // ALL events, but without execution data: task tokens stay out of the logs
                .logs(LogOptions.builder().destination(logs).level(LogLevel.ALL).includeExecutionData(false).build())
                .tracingEnabled(true)
                .build();
        sm.addToRolePolicy(PolicyStatement.Builder.create()
                .sid("InvokeTheLiveAliasesOnly")
                .actions(List.of("lambda:InvokeFunction"))
                .resources(List.of(notifier.alias().getFunctionArn(), forward.alias().getFunctionArn()))
                .build());
        return sm;
    }

    private void allowApprovalWorkflow() {
        gateway.addEnvironment("POLICYGATE_STATE_MACHINE_ARN", approvals.getStateMachineArn());
        gateway.allow(PolicyStatement.Builder.create()
                .sid("StartApprovals")
                .actions(List.of("states:StartExecution"))
                .resources(List.of(approvals.getStateMachineArn()))
                .build());
        callback.allow(PolicyStatement.Builder.create()
                .sid("ResumeApprovals")
                .actions(List.of("states:SendTaskSuccess", "states:SendTaskFailure"))
                .resources(List.of(approvals.getStateMachineArn()))
                .build());
    }

    // ---------------------------------------------------------------- API

    private RestApi createApi() {
        LogGroup accessLogs = LogGroup.Builder.create(this, "ApiAccessLogs")
                .retention(RetentionDays.ONE_YEAR)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        RestApi restApi = RestApi.Builder.create(this, "Api")
                .restApiName("policygate-" + getStackName())
                .description("Policygate: policy-as-code gateway for the Claude Messages API")
                .endpointTypes(List.of(EndpointType.REGIONAL))
                .cloudWatchRole(true)
                .cloudWatchRoleRemovalPolicy(RemovalPolicy.RETAIN)
                .deployOptions(StageOptions.builder()
                        .stageName(STAGE)
                        .throttlingRateLimit(config.throttleRate())
                        .throttlingBurstLimit(config.throttleBurst())
                        .accessLogDestination(new LogGroupLogDestination(accessLogs))
                        .accessLogFormat(AccessLogFormat.custom(ACCESS_LOG_FORMAT))
                        // errors only, and never bodies: prompts and replies stay out of execution logs
                        .loggingLevel(MethodLoggingLevel.ERROR)
                        .dataTraceEnabled(false)
                        .metricsEnabled(true)
                        .tracingEnabled(true)
                        .build())
                .build();
        anthropicErrors(restApi);
        return restApi;
    }

    /** One JSON object per request; no body, no headers, no query string. */
    static final String ACCESS_LOG_FORMAT = "{\"requestId\":\"$context.requestId\","
            + "\"extendedRequestId\":\"$context.extendedRequestId\",\"ip\":\"$context.identity.sourceIp\","
            + "\"requestTime\":\"$context.requestTime\",\"httpMethod\":\"$context.httpMethod\","
            + "\"resourcePath\":\"$context.resourcePath\",\"status\":\"$context.status\","
            + "\"protocol\":\"$context.protocol\",\"responseLength\":\"$context.responseLength\","
            + "\"integrationStatus\":\"$context.integration.status\","
            + "\"integrationLatency\":\"$context.integration.latency\","
            + "\"responseLatency\":\"$context.responseLatency\",\"errorType\":\"$context.error.responseType\","
            + "\"wafStatus\":\"$context.waf.status\",\"userAgent\":\"$context.identity.userAgent\"}";

    /** API Gateway's own errors, shaped like Anthropic's, so that the SDKs parse them. */
    private static void anthropicErrors(RestApi restApi) {
        Map<ResponseType, String[]> errors = new LinkedHashMap<>();
        errors.put(ResponseType.BAD_REQUEST_BODY, new String[] {"400", "invalid_request_error",
                "\"invalid request body: model, messages and max_tokens are required\""});
        errors.put(ResponseType.REQUEST_TOO_LARGE, new String[] {"413", "request_too_large",
                "\"request body too large\""});
        errors.put(ResponseType.THROTTLED, new String[] {"429", "rate_limit_error", "\"rate limit exceeded\""});
        errors.put(ResponseType.WAF_FILTERED, new String[] {"403", "permission_error", "\"request blocked\""});
        errors.put(ResponseType.MISSING_AUTHENTICATION_TOKEN, new String[] {"404", "not_found_error", "\"not found\""});
        errors.put(ResponseType.INTEGRATION_TIMEOUT, new String[] {"504", "api_error",
                "\"the gateway timed out before Claude answered; see the integration timeout in the deploy guide\""});
        errors.put(ResponseType.DEFAULT_4_XX, new String[] {null, "invalid_request_error", "$context.error.messageString"});
        errors.put(ResponseType.DEFAULT_5_XX, new String[] {null, "api_error", "\"internal error\""});
        int n = 0;
        for (Map.Entry<ResponseType, String[]> e : errors.entrySet()) {
            String[] v = e.getValue();
            GatewayResponseOptions.Builder o = GatewayResponseOptions.builder()
                    .type(e.getKey())
                    .templates(Map.of("application/json", "{\"type\":\"error\",\"error\":{\"type\":\"" + v[1]
                            + "\",\"message\":" + v[2] + "},\"request_id\":\"$context.requestId\"}"))
                    ;
            if (v[0] != null) {
                o.statusCode(v[0]);
            }
            restApi.addGatewayResponse("AnthropicError" + (n++), o.build());
        }
    }

    private void routeApi() {
        LambdaIntegration toGateway = new LambdaIntegration(gateway.alias(), LambdaIntegrationOptions.builder()
                .proxy(true).allowTestInvoke(false)
                .timeout(Duration.seconds(config.integrationTimeoutSeconds())).build());
        LambdaIntegration toCallback = new LambdaIntegration(callback.alias(), LambdaIntegrationOptions.builder()
                .proxy(true).allowTestInvoke(false).build());

        RequestValidator validator = api.addRequestValidator("Validator", RequestValidatorOptions.builder()
                .requestValidatorName("body-and-parameters")
                .validateRequestBody(true).validateRequestParameters(true).build());
        Model messages = api.addModel("MessagesRequest", ModelOptions.builder()
                .contentType("application/json")
                .modelName("MessagesRequest")
                .description("The fields the Messages API requires; the gateway checks the rest")
                .schema(JsonSchema.builder()
                        .schema(JsonSchemaVersion.DRAFT4)
                        .type(JsonSchemaType.OBJECT)
                        .required(List.of("model", "messages", "max_tokens"))
                        .properties(Map.of(
                                "model", JsonSchema.builder().type(JsonSchemaType.STRING).minLength(1).maxLength(256).build(),
                                "messages", JsonSchema.builder().type(JsonSchemaType.ARRAY).minItems(1).build(),
                                "max_tokens", JsonSchema.builder().type(JsonSchemaType.INTEGER).minimum(1).build(),
                                "stream", JsonSchema.builder().type(JsonSchemaType.BOOLEAN).build()))
                        .build())
                .build());

        Resource v1 = api.getRoot().addResource("v1");
        v1.addResource("{proxy+}").addMethod("ANY", toGateway);
        Resource messagesResource = v1.addResource("messages");
        messagesResource.addMethod("POST", toGateway, MethodOptions.builder()
                .requestValidator(validator)
                .requestModels(Map.of("application/json", messages))
                .build());
        messagesResource.addResource("{proxy+}").addMethod("ANY", toGateway);
        Resource approvalsResource = api.getRoot().addResource("approvals");
        approvalsResource.addResource("{proxy+}").addMethod("ANY", toCallback);
    }

    private void createWebAcl() {
        List<CfnWebACL.RuleProperty> rules = new ArrayList<>();
        rules.add(CfnWebACL.RuleProperty.builder()
                .name("rate-limit-per-ip").priority(0)
                .statement(CfnWebACL.StatementProperty.builder()
                        .rateBasedStatement(CfnWebACL.RateBasedStatementProperty.builder()
                                .limit(config.wafRateLimit()).aggregateKeyType("IP").build())
                        .build())
                .action(CfnWebACL.RuleActionProperty.builder().block(CfnWebACL.BlockActionProperty.builder().build()).build())
                .visibilityConfig(visibility("rate-limit-per-ip"))
                .build());
        // Prompts are large and full of code: the body rules of the common set would block them.
        // They count instead of block; the gateway's own analysis is the content control.
        List<CfnWebACL.RuleActionOverrideProperty> countBodyRules = new ArrayList<>();
        for (String rule : List.of("SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY",
                "GenericRFI_BODY", "EC2MetaDataSSRF_BODY", "NoUserAgent_HEADER")) {
            countBodyRules.add(CfnWebACL.RuleActionOverrideProperty.builder().name(rule)
                    .actionToUse(CfnWebACL.RuleActionProperty.builder().count(CfnWebACL.CountActionProperty.builder().build()).build()).build());
        }
        rules.add(managedRules("AWSManagedRulesCommonRuleSet", 1, countBodyRules));
        rules.add(managedRules("AWSManagedRulesKnownBadInputsRuleSet", 2, List.of()));
        rules.add(managedRules("AWSManagedRulesAmazonIpReputationList", 3, List.of()));
        CfnWebACL acl = CfnWebACL.Builder.create(this, "WebAcl")
                .scope("REGIONAL")
                .defaultAction(CfnWebACL.DefaultActionProperty.builder().allow(CfnWebACL.AllowActionProperty.builder().build()).build())
                .visibilityConfig(visibility("policygate"))
                .rules(rules)
                .build();
        CfnWebACLAssociation.Builder.create(this, "WebAclAssociation")
                .resourceArn(api.getDeploymentStage().getStageArn())
                .webAclArn(acl.getAttrArn())
                .build();
    }

    private static CfnWebACL.RuleProperty managedRules(String name, int priority,
                                                       List<CfnWebACL.RuleActionOverrideProperty> overrides) {
        CfnWebACL.ManagedRuleGroupStatementProperty.Builder group = CfnWebACL.ManagedRuleGroupStatementProperty.builder()
                .vendorName("AWS").name(name);
        if (!overrides.isEmpty()) {
            group.ruleActionOverrides(overrides);
        }
        return CfnWebACL.RuleProperty.builder()
                .name(name).priority(priority)
                .statement(CfnWebACL.StatementProperty.builder().managedRuleGroupStatement(group.build()).build())
                .overrideAction(CfnWebACL.OverrideActionProperty.builder().none(Map.of()).build())
                .visibilityConfig(visibility(name))
                .build();
    }

    private static CfnWebACL.VisibilityConfigProperty visibility(String name) {
        return CfnWebACL.VisibilityConfigProperty.builder()
                .cloudWatchMetricsEnabled(true).sampledRequestsEnabled(true).metricName(name).build();
    }

    // ---------------------------------------------------------------- observability

    private void createObservability() {
        Topic topic = Topic.Builder.create(this, "Alarms")
                .displayName("Policygate alarms")
                .masterKey(key)
                .enforceSsl(true)
                .build();
        // CloudWatch must be able to publish to the encrypted topic
        key.grant(new software.amazon.awscdk.services.iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                "kms:Decrypt", "kms:GenerateDataKey");
        if (config.alarmEmail() != null) {
            topic.addSubscription(new EmailSubscription(config.alarmEmail()));
        }
        SnsAction notify = new SnsAction(topic);

        Duration period = Duration.minutes(5);
        Metric requests = api.metricCount(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                .period(period).statistic("Sum").build());
        Metric serverErrors = api.metricServerError(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                .period(period).statistic("Sum").build());
        MathExpression errorRate = MathExpression.Builder.create()
                .expression("IF(requests >= 20, 100 * errors / requests, 0)")
                .usingMetrics(Map.of("requests", requests, "errors", serverErrors))
                .label("5xx rate (%)")
                .period(period)
                .build();
        List<Alarm> alarms = new ArrayList<>();
        alarms.add(errorRate.createAlarm(this, "Api5xxRate", software.amazon.awscdk.services.cloudwatch.CreateAlarmOptions.builder()
                .alarmDescription("More than 5% of gateway requests failed with 5xx over 10 minutes")
                .threshold(5).evaluationPeriods(2)
                .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                .treatMissingData(TreatMissingData.NOT_BREACHING).build()));
        alarms.add(counterAlarm("UpstreamErrors", "UpstreamError", 5,
                "Claude (Anthropic or Bedrock) failed or timed out at least 5 times in 5 minutes"));
        alarms.add(counterAlarm("WriteAheadFailures", "WriteAheadFailed", 1,
                "The write-ahead session index write failed: requests were refused (or forwarded unrecorded with fail-open)"));
        alarms.add(counterAlarm("RecordingFailures", "RecordingFailed", 1,
                "A session recording could not be written to S3"));
        alarms.add(approvals.metricFailed(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                        .period(period).statistic("Sum").build())
                .createAlarm(this, "ApprovalFailures", software.amazon.awscdk.services.cloudwatch.CreateAlarmOptions.builder()
                        .alarmDescription("An approval workflow execution failed")
                        .threshold(1).evaluationPeriods(1)
                        .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                        .treatMissingData(TreatMissingData.NOT_BREACHING).build()));
        for (LiveFunction f : List.of(gateway, callback, notifier, forward)) {
            alarms.add(f.function().metricErrors(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                            .period(period).statistic("Sum").build())
                    .createAlarm(this, f.getNode().getId() + "Errors", software.amazon.awscdk.services.cloudwatch.CreateAlarmOptions.builder()
                            .alarmDescription("The " + f.getNode().getId() + " function failed (unhandled errors)")
                            .threshold(1).evaluationPeriods(1)
                            .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                            .treatMissingData(TreatMissingData.NOT_BREACHING).build()));
        }
        for (Alarm a : alarms) {
            a.addAlarmAction(notify);
        }

        Dashboard dashboard = Dashboard.Builder.create(this, "Dashboard")
                .dashboardName("Policygate-" + getStackName())
                .build();
        dashboard.addWidgets(
                graph("Requests and 5xx", List.of(requests, serverErrors)),
                graph("5xx rate (%)", List.of(errorRate)),
                graph("Latency p50 / p99 (ms)", List.of(
                        api.metricLatency(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder().period(period).statistic("p50").build()),
                        api.metricLatency(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder().period(period).statistic("p99").build()))));
        List<IMetric> fnDurations = new ArrayList<>();
        List<IMetric> fnErrors = new ArrayList<>();
        for (LiveFunction f : List.of(gateway, callback, notifier, forward)) {
            fnDurations.add(f.function().metricDuration(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                    .period(period).statistic("p99").label(f.getNode().getId() + " p99").build()));
            fnErrors.add(f.function().metricErrors(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                    .period(period).statistic("Sum").label(f.getNode().getId()).build()));
        }
        dashboard.addWidgets(
                graph("Function duration p99 (ms)", fnDurations),
                graph("Function errors", fnErrors),
                graph("Gateway counters", List.of(counter("UpstreamError"), counter("WriteAheadFailed"),
                        counter("WriteAheadFailOpen"), counter("RecordingFailed"))));
        dashboard.addWidgets(
                graph("Approvals", List.of(
                        approvals.metricStarted(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder().period(period).statistic("Sum").build()),
                        approvals.metricSucceeded(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder().period(period).statistic("Sum").build()),
                        approvals.metricFailed(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder().period(period).statistic("Sum").build()),
                        approvals.metricTimedOut(software.amazon.awscdk.services.cloudwatch.MetricOptions.builder().period(period).statistic("Sum").build()))),
                graph("Decisions", List.of(counter("DecisionAllow"), counter("DecisionDeny"),
                        counter("DecisionApproval"))));
        new CfnOutput(this, OUTPUT_DASHBOARD, software.amazon.awscdk.CfnOutputProps.builder()
                .value(dashboard.getDashboardName()).description("CloudWatch dashboard").build());
    }

    private static Metric counter(String name) {
        return Metric.Builder.create().namespace(METRICS_NAMESPACE).metricName(name)
                .period(Duration.minutes(5)).statistic("Sum").build();
    }

    private Alarm counterAlarm(String id, String metric, int threshold, String description) {
        return counter(metric).createAlarm(this, id, software.amazon.awscdk.services.cloudwatch.CreateAlarmOptions.builder()
                .alarmDescription(description)
                .threshold(threshold).evaluationPeriods(1)
                .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                .treatMissingData(TreatMissingData.NOT_BREACHING).build());
    }

    private static GraphWidget graph(String title, List<? extends IMetric> metrics) {
        return GraphWidget.Builder.create().title(title).left(new ArrayList<>(metrics)).width(8).build();
    }

    private void createOutputs() {
        output(OUTPUT_API_URL, publicUrl, "Base URL for the Anthropic SDKs (ANTHROPIC_BASE_URL)");
        output(OUTPUT_BUCKET, recordings.getBucketName(), "S3 bucket of the session recordings");
        output(OUTPUT_TABLE, table.getTableName(), "DynamoDB table: session index, approvals, gateway keys");
        output(OUTPUT_STATE_MACHINE, approvals.getStateMachineArn(), "Approval workflow (Step Functions)");
        output(OUTPUT_API_KEY_SECRET, anthropicKey.getSecretArn(), "Put the Anthropic API key here after deploy");
    }

    private void output(String id, String value, String description) {
        new CfnOutput(this, id, software.amazon.awscdk.CfnOutputProps.builder()
                .value(value).description(description).build());
    }

    // ---------------------------------------------------------------- cdk-nag

    /** Every accepted finding, each with the reason it is accepted. */
    private void suppressNagFindings(Bucket accessLogs) {
        NagSuppressions.addResourceSuppressions(accessLogs, List.of(suppress("AwsSolutions-S1",
                "This is the server access log bucket; logging its own access would loop.")));
        for (LiveFunction f : List.of(gateway, callback, notifier, forward)) {
            NagSuppressions.addResourceSuppressions(f.role(), List.of(
                    suppressFor("AwsSolutions-IAM5", "X-Ray PutTraceSegments and PutTelemetryRecords support no "
                            + "resource-level permissions; they carry no data access.", List.of("Resource::*")),
                    suppressFor("AwsSolutions-IAM5", "Objects are keyed by session id under fixed prefixes "
                            + "(sessions/, held/); S3 has no finer resource than a key prefix.",
                            List.of("Resource::<" + logicalId(recordings) + ".Arn>/sessions/*",
                                    "Resource::<" + logicalId(recordings) + ".Arn>/held/*")),
                    suppressFor("AwsSolutions-IAM5", "Bedrock: only Anthropic models, in any region an inference "
                            + "profile routes to; model ids are chosen per request.",
                            List.of("Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/anthropic.*",
                                    "Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/*anthropic.*"))),
                    true);
            NagSuppressions.addResourceSuppressions(f.function(), List.of(suppress("AwsSolutions-L1",
                    "java21 is the runtime this build targets (Java 17 bytecode, SnapStart); newer runtimes are "
                            + "adopted deliberately after testing, not automatically.")));
        }
        NagSuppressions.addResourceSuppressions(approvals, List.of(suppressFor("AwsSolutions-IAM5",
                "CloudWatch Logs delivery and X-Ray actions used by Step Functions logging and tracing support no "
                        + "resource-level permissions.", List.of("Resource::*"))), true);
        NagSuppressions.addResourceSuppressions(anthropicKey, List.of(suppress("AwsSolutions-SMG4",
                "Anthropic issues this key; it is rotated in the Anthropic console and put here by the operator, "
                        + "so Secrets Manager cannot rotate it.")));
        NagSuppressions.addResourceSuppressions(linkKey, List.of(suppress("AwsSolutions-SMG4",
                "Rotating the link key would invalidate every pending approval link and sealed held request; it "
                        + "is rotated by redeploying between approval windows (see infra-cdk/README.md).")));
        NagSuppressions.addResourceSuppressions(api, List.of(
                suppress("AwsSolutions-APIG4", "The gateway function authenticates every request itself (OIDC JWT "
                        + "or hashed gateway key) because it needs the principal and groups for Cedar; approval "
                        + "links carry a signed single-use token checked by the callback function."),
                suppress("AwsSolutions-COG4", "Same as APIG4: authentication happens in the functions, which "
                        + "accept Cognito ID tokens through the OIDC settings when Cognito is on.")), true);
        if (!config.waf()) {
            NagSuppressions.addResourceSuppressions(api, List.of(suppress("AwsSolutions-APIG3",
                    "WAF is opt-in (context waf=true): it adds a fixed monthly cost, and stage throttling plus the "
                            + "gateway's own checks apply without it.")), true);
        }
        NagSuppressions.addStackSuppressions(this, List.of(suppressFor("AwsSolutions-IAM4",
                "The account-level API Gateway CloudWatch role uses AWS's managed push-to-logs policy, the "
                        + "documented setup for execution logging.",
                List.of("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"))));
        if (config.cognitoSaml()) {
            UserPool pool = (UserPool) getNode().findChild("UserPool");
            NagSuppressions.addResourceSuppressions(pool, List.of(
                    suppress("AwsSolutions-COG2", "Users sign in through the corporate SAML IdP, which enforces "
                            + "MFA; no user has a Cognito password."),
                    suppress("AwsSolutions-COG3", "Threat protection needs the Cognito Plus tier; sign-in is "
                            + "federated to the SAML IdP, whose own risk controls apply.")));
        }
    }

    private String logicalId(Bucket bucket) {
        return getLogicalId((software.amazon.awscdk.CfnElement) bucket.getNode().getDefaultChild());
    }

    private static NagPackSuppression suppress(String id, String reason) {
        return NagPackSuppression.builder().id(id).reason(reason).build();
    }

    private static NagPackSuppression suppressFor(String id, String reason, List<String> appliesTo) {
        return NagPackSuppression.builder().id(id).reason(reason).appliesTo(new ArrayList<>(appliesTo)).build();
    }

    // ---------------------------------------------------------------- accessors for the app and tests

    public RestApi api() {
        return api;
    }

    public StateMachine approvals() {
        return approvals;
    }
}
