package dev.policygate.aws.lambda;

import dev.policygate.adapters.bedrock.BedrockClaudeUpstream;
import dev.policygate.adapters.upstream.HttpClaudeUpstream;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.aws.AwsClients;
import dev.policygate.aws.dynamodb.DynamoApiKeyStore;
import dev.policygate.aws.dynamodb.DynamoSessionIndex;
import dev.policygate.aws.s3.S3SessionRecorder;
import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.auth.GatewayAuthenticator;
import dev.policygate.core.auth.JwtVerifier;
import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.EntityRef;
import dev.policygate.core.decision.PolicyLoadException;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.core.gateway.GatewayConfig;
import dev.policygate.core.gateway.GatewayLimits;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;
import dev.policygate.core.session.SplitSessionStore;
import com.google.common.base.Suppliers;
import dev.policygate.aws.dynamodb.DynamoApprovalStore;
import dev.policygate.aws.dynamodb.DynamoApproverDirectory;
import dev.policygate.aws.s3.S3HeldRequestStore;
import dev.policygate.aws.ses.SesNotifier;
import dev.policygate.aws.sfn.SfnTaskCallbacks;
import dev.policygate.aws.sfn.StepFunctionsApprovalWorkflow;
import dev.policygate.core.approval.ApprovalLinks;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.ApprovalStore;
import dev.policygate.core.approval.ApprovalWorkflow;
import dev.policygate.core.approval.HeldRequestStore;
import dev.policygate.core.approval.Notifier;
import dev.policygate.core.approval.Sealer;
import software.amazon.awssdk.services.sesv2.SesV2Client;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Assembles the {@link Gateway} for Lambda from {@link AwsSettings}: DynamoDB index and key
 * store, S3 recordings, the Anthropic upstream, the policy engine and the masker. Everything is
 * built once, during INIT, and no AWS API is called while building; the upstream key is read
 * from Secrets Manager on the first forwarded request.
 *
 * <p>Before returning, it primes local state only (the native Cedar library and the cached policy
 * set, the analyser and the masker) with a fixed dummy request, so that a SnapStart snapshot
 * starts warm. Each function has a role ({@link ApprovalSettings.Role}): the gateway starts
 * approvals, the notifier emails the links, the callback serves the approval pages and resumes
 * the state machine, and the forward function calls Claude after an approval.
 */
public final class LambdaWiring {
    static final Duration UPSTREAM_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** Until the response headers arrive; the function timeout bounds the whole request anyway. */
    static final Duration UPSTREAM_RESPONSE_TIMEOUT = Duration.ofMinutes(5);
    static final Duration UPSTREAM_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /**
     * A complete reply travels inside Lambda's 6 MB response as an escaped JSON string, which can
     * grow it by half: replies above this are refused (502) rather than failing the invocation.
     */
    static final int MAX_REPLY_BYTES = 4 * 1024 * 1024;
    static final Duration SESSION_WAIT_MAX = Duration.ofSeconds(20);
    static final String BUNDLED_POLICIES = "cedar-policies";
    private static final int BACKGROUND_THREADS = 4;
    private static final byte[] PRIMING_REQUEST = ("{\"model\":\"claude-priming\",\"max_tokens\":16,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"prime the masker for a.b@example.com\"}]}")
            .getBytes(StandardCharsets.UTF_8);

    private LambdaWiring() {
    }

    /** The AWS clients a function uses; the ones its role does not need are never called. */
    public record Clients(DynamoDbClient dynamo, S3Client s3, SfnClient sfn, SesV2Client ses) {
    }

    /**
     * What a function is made of: the gateway (every role but the notifier uses one), the
     * approval service (pages and expiry; null on the gateway), and the stores.
     */
    public record Wired(Gateway gateway, ApprovalService approvals, ApprovalStore approvalStore, HeldRequestStore held) {
    }

    /** The gateway function as deployed: clients in the configured region, keys from Secrets Manager. */
    static Gateway production(AwsSettings settings) {
        return production(settings, ApprovalSettings.fromEnvironment(System.getenv(), ApprovalSettings.Role.GATEWAY),
                ApprovalSettings.Role.GATEWAY).gateway();
    }

    /** A function as deployed, in its role. Builds clients but calls no AWS API. */
    static Wired production(AwsSettings settings, ApprovalSettings approval, ApprovalSettings.Role role) {
        AwsClients.Target aws = AwsClients.Target.aws(settings.region());
        SecretsManagerClient secrets = secretsManager(settings.region());
        boolean callsClaude = role == ApprovalSettings.Role.GATEWAY || role == ApprovalSettings.Role.FORWARD;
        Supplier<String> apiKey = callsClaude && settings.upstream() == AwsSettings.Upstream.ANTHROPIC
                ? new SecretsManagerApiKey(secrets, settings.requireAnthropicApiKeySecretArn(), Clock.systemUTC())
                : () -> {
                    throw new IllegalStateException("this function does not call the Anthropic API");
                };
        Supplier<byte[]> linkKey = approval.linkKeySecretArn() == null ? LambdaWiring::noLinkKey
                : Suppliers.memoize(() -> new SecretsManagerApiKey(secrets, approval.linkKeySecretArn(),
                        Clock.systemUTC()).get().getBytes(StandardCharsets.UTF_8));
        return assemble(settings, approval, role, new Clients(AwsClients.dynamo(aws), AwsClients.s3(aws),
                AwsClients.sfn(aws), AwsClients.ses(aws)), apiKey, linkKey, Clock.systemUTC(),
                LimitSettings.fromEnvironment(System.getenv()));
    }

    /**
     * Test only: the same gateway over clients the test points at its emulators, with a plain
     * upstream key in place of the secret ({@code settings.anthropicApiKeySecretArn()} is not used).
     * Clients rather than endpoints, because each emulator wants its own dummy credentials.
     */
    static Gateway forEmulators(AwsSettings settings, DynamoDbClient dynamo, S3Client s3, String upstreamApiKey) {
        return assemble(settings, new ApprovalSettings(null, ApprovalSettings.DEFAULT_TIMEOUT, null, null, null),
                ApprovalSettings.Role.GATEWAY, new Clients(dynamo, s3, null, null), () -> upstreamApiKey,
                LambdaWiring::noLinkKey, Clock.systemUTC(), LimitSettings.fromEnvironment(Map.of())).gateway();
    }

    /** Test only: a function in its role over emulator clients, with plain keys in place of the secrets. */
    public static Wired forEmulators(AwsSettings settings, ApprovalSettings approval, ApprovalSettings.Role role,
                              Clients clients, String upstreamApiKey, byte[] linkKey, Clock clock) {
        return assemble(settings, approval, role, clients, () -> upstreamApiKey, () -> linkKey.clone(), clock,
                LimitSettings.fromEnvironment(Map.of()));
    }

    private static byte[] noLinkKey() {
        throw new IllegalStateException(ApprovalSettings.LINK_KEY_SECRET_ARN + " is not set");
    }

    private static Wired assemble(AwsSettings s, ApprovalSettings a, ApprovalSettings.Role role, Clients c,
                                  Supplier<String> apiKey, Supplier<byte[]> linkKey, Clock clock,
                                  GatewayLimits limits) {
        CedarPolicyEngine policies = policies(s.policiesDir());
        DetectorSet detectors = DetectorSet.builtIns();
        // no HASH strategy by default, so no pseudonym key: nothing secret or unique enters the snapshot
        TextMasker masker = new TextMasker(detectors, MaskingConfig.defaults(null));
        RequestAnalyzer analyzer = new RequestAnalyzer(detectors, limits.maxMessages(), limits.maxTools());
        prime(policies, analyzer, masker);
        // and again right before a SnapStart snapshot, so that the restored copy starts warm
        SnapStartPriming.register(() -> prime(policies, analyzer, masker));

        GatewayAuthenticator auth = new GatewayAuthenticator(Optional.ofNullable(s.oidc()).map(JwtVerifier::new),
                new DynamoApiKeyStore(c.dynamo(), s.table()));
        ExecutorService background = Executors.newFixedThreadPool(BACKGROUND_THREADS, r -> {
            Thread t = new Thread(r, "policygate-background");
            t.setDaemon(true);
            return t;
        });
        SplitSessionStore sessions = new SplitSessionStore(
                new DynamoSessionIndex(c.dynamo(), s.table(), Duration.ofDays(s.retentionDays())),
                new S3SessionRecorder(c.s3(), s.bucket(), s.kmsKeyId()), background);
        ClaudeUpstream upstream = s.upstream() == AwsSettings.Upstream.BEDROCK
                ? BedrockClaudeUpstream.create(s.region(), bedrockPrefix(s.bedrockProfilePrefix()))
                : new HttpClaudeUpstream(s.upstreamUrl(), apiKey, UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_RESPONSE_TIMEOUT,
                UPSTREAM_IDLE_TIMEOUT);
        GatewayConfig config = new GatewayConfig(s.maxBodyBytes(), limits, GatewayConfig.DEFAULT_MODEL_PATTERN,
                s.publicUrl() == null ? "" : s.publicUrl(), s.failOpen(), SESSION_WAIT_MAX);

        HeldRequestStore held = new S3HeldRequestStore(c.s3(), s.bucket(), s.kmsKeyId(), c.dynamo(), s.table(),
                new Sealer(linkKey), clock);
        ApprovalStore approvalStore = new DynamoApprovalStore(c.dynamo(), s.table());
        DynamoApproverDirectory directory = new DynamoApproverDirectory(c.dynamo(), s.table());
        ApprovalWorkflow workflow = null;
        ApprovalService approvals = null;
        switch (role) {
            case GATEWAY -> {
                if (a.stateMachineArn() != null) {
                    workflow = new StepFunctionsApprovalWorkflow(c.sfn(), a.stateMachineArn(), directory, a.timeout(),
                            clock);
                }
            }
            case NOTIFIER -> approvals = approvalService(s, a, approvalStore, directory, policies, linkKey, clock,
                    new SesNotifier(c.ses(), a.sesFrom(), a.sesConfigurationSet()));
            case CALLBACK -> {
                approvals = approvalService(s, a, approvalStore, directory, policies, linkKey, clock,
                        notice -> {
                            throw new IllegalStateException("the approval callback never notifies");
                        });
                approvals.setListener(new SfnTaskCallbacks(c.sfn()));
            }
            case FORWARD -> approvals = approvalService(s, a, approvalStore, directory, policies, linkKey, clock,
                    notice -> {
                        throw new IllegalStateException("the forward function never notifies");
                    });
            default -> throw new IllegalStateException(role.name());
        }
        // SessionIds' SecureRandom is created here, before a snapshot: the JDK's default NativePRNG
        // mixes fresh /dev/urandom bytes into every call, so restored copies do not repeat ids
        Gateway gateway = new Gateway(config, auth, policies, analyzer, masker, upstream, sessions, workflow,
                role == ApprovalSettings.Role.CALLBACK ? approvals : null, held, clock, background)
                .withMetrics(new EmfMetrics(System.out, Clock.systemUTC()));
        return new Wired(gateway, approvals, approvalStore, held);
    }

    /** The cross-region inference profile prefix: {@code us.} unless set; {@code none} for in-region ids. */
    static String bedrockPrefix(String configured) {
        if (configured == null) {
            return "us.";
        }
        return "none".equals(configured) ? "" : configured;
    }

    private static ApprovalService approvalService(AwsSettings s, ApprovalSettings a, ApprovalStore store,
                                                   DynamoApproverDirectory directory, CedarPolicyEngine policies,
                                                   Supplier<byte[]> linkKey, Clock clock, Notifier notifier) {
        // no scheduler: the state machine's TimeoutSeconds expires approvals on AWS
        return new ApprovalService(store, notifier, directory, new ApprovalLinks(linkKey), policies, clock,
                a.timeout(), s.publicUrl() == null ? "" : s.publicUrl(), null);
    }

    /** The override folder if set, else the policies bundled in the jar. Fails fast if invalid. */
    static CedarPolicyEngine policies(Path overrideDir) {
        if (overrideDir != null) {
            try {
                return CedarPolicyEngine.load(overrideDir);
            } catch (PolicyLoadException e) {
                throw new IllegalArgumentException(AwsSettings.POLICIES_DIR + " " + overrideDir
                        + ": the policies are invalid, refusing to start: " + e.getMessage(), e);
            }
        }
        return bundledPolicies();
    }

    private static CedarPolicyEngine bundledPolicies() {
        String schema = BUNDLED_POLICIES + "/" + CedarPolicyEngine.SCHEMA_FILE;
        URL url = LambdaWiring.class.getClassLoader().getResource(schema);
        if (url == null) {
            throw new IllegalStateException("the bundled policies are missing from the classpath: " + schema);
        }
        URI uri;
        try {
            uri = url.toURI();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the bundled policies: " + url, e);
        }
        if (!"jar".equals(uri.getScheme())) {
            // Lambda unpacks the deployment package, so this is the usual case there
            return CedarPolicyEngine.load(Path.of(uri).getParent());
        }
        try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
            return CedarPolicyEngine.load(jar.getPath("/" + BUNDLED_POLICIES));
        } catch (FileSystemAlreadyExistsException e) {
            return CedarPolicyEngine.load(FileSystems.getFileSystem(uri).getPath("/" + BUNDLED_POLICIES));
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the bundled policies in " + uri, e);
        }
    }

    /** One analysis, one decision, one masking pass on fixed data: local state only, no I/O. */
    private static void prime(CedarPolicyEngine policies, RequestAnalyzer analyzer, TextMasker masker) {
        AnalysedRequest a = analyzer.analyse(PRIMING_REQUEST, RequestAnalyzer.Operation.MESSAGES);
        policies.decide(new AuthzRequest(EntityRef.user("policygate-priming"), Set.of(), Action.invoke_model,
                EntityRef.model(a.model()), null, Contexts.invokeModel(a.normalisedPrompt(), a.detectionLabels(),
                a.maxTokens(), a.stream(), a.estimatedInputTokens(), false, null, "127.0.0.1",
                Contexts.OPERATION_MESSAGES, Set.copyOf(a.tools()), Set.copyOf(a.skills()),
                Set.copyOf(a.mcpServers()))));
        masker.mask(a.rawText(), UnmaskDecider.MASK_ALL);
    }

    /** Built like the clients of {@link AwsClients}: explicit region, URLConnection, standard retries. */
    private static SecretsManagerClient secretsManager(String region) {
        return SecretsManagerClient.builder()
                .region(Region.of(region))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(10))
                        .build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(RetryMode.STANDARD)
                        .apiCallTimeout(Duration.ofSeconds(20))
                        .build())
                .build();
    }
}
