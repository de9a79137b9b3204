package dev.policygate.e2e.aws;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.policygate.aws.AwsClients;
import dev.policygate.aws.dynamodb.DynamoApiKeyStore;
import dev.policygate.aws.dynamodb.DynamoApproverDirectory;
import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.lambda.ApprovalCallbackHandler;
import dev.policygate.aws.lambda.ApprovalNotifierHandler;
import dev.policygate.aws.lambda.ApprovalSettings;
import dev.policygate.aws.lambda.AwsSettings;
import dev.policygate.aws.lambda.ForwardHandler;
import dev.policygate.aws.lambda.GatewayHandler;
import dev.policygate.aws.lambda.LambdaWiring;
import dev.policygate.aws.testing.AwsBackend;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.e2e.MockAnthropic;
import dev.policygate.e2e.RepoPaths;
import dev.policygate.sfn.LambdaDispatcher;
import dev.policygate.sfn.MutableClock;
import dev.policygate.sfn.StepFunctionsEmulator;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sesv2.SesV2Client;
import software.amazon.awssdk.services.sfn.SfnClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The deployed shape of Policygate's approval path, on 127.0.0.1: dynalite, s3rver, the
 * project's Step Functions emulator running {@code statemachines/approval.asl.json}, an SES
 * stand-in, a mock Anthropic API, and the four Lambda handlers wired as on AWS (each its own
 * wiring, sharing only the table, the bucket and the link key, as functions do). The callback
 * function sits behind an API Gateway stand-in, so that a browser can reach the pages.
 */
final class AwsApprovalStack implements AutoCloseable {
    static final String TABLE = "policygate";
    static final String BUCKET = "policygate-recordings";
    static final String UPSTREAM_KEY = "sk-ant-upstream-e2e";
    static final byte[] LINK_KEY = "e2e-link-signing-secret-0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    static final Duration TIMEOUT = Duration.ofHours(1);
    static final String NOTIFIER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:policygate-notifier:live";
    static final String FORWARD_ARN = "arn:aws:lambda:us-east-1:123456789012:function:policygate-forward:live";
    private static final ObjectMapper JSON = new ObjectMapper();

    final MutableClock clock = new MutableClock(Instant.now());
    final AwsBackend backend;
    final DynamoDbClient dynamo;
    final S3Client s3;
    final MockAnthropic anthropic;
    final SesStandIn ses;
    final SesV2Client sesClient;
    final StepFunctionsEmulator sfnEmulator;
    final SfnClient sfn;
    final String stateMachineArn;
    final GatewayHandler gateway;
    final ApprovalCallbackHandler callback;
    final ApiGatewayFront front;
    final String developerKey;
    final String approverKey;
    private volatile ApprovalNotifierHandler notifier;
    private volatile ForwardHandler forward;

    AwsApprovalStack() throws IOException {
        backend = AwsBackend.start();
        dynamo = backend.newDynamoClient();
        s3 = backend.newS3Client();
        PolicygateTable.create(dynamo, TABLE);
        s3.createBucket(b -> b.bucket(BUCKET));
        DynamoApiKeyStore keys = new DynamoApiKeyStore(dynamo, TABLE);
        developerKey = newKey(keys, "dev", Set.of("developers"), "dev@example.com");
        approverKey = newKey(keys, "alice", Set.of("approvers"), "alice@example.com");
        DynamoApproverDirectory directory = new DynamoApproverDirectory(dynamo, TABLE);
        directory.add("approvers", "alice@example.com");
        directory.add("approvers", "bob@example.com");
        // the requester is an approver too: they must never get a link for their own request
        directory.add("approvers", "dev@example.com");

        anthropic = new MockAnthropic();
        ses = new SesStandIn();
        sesClient = AwsClients.ses(AwsClients.Target.emulator(ses.endpoint()));
        sfnEmulator = StepFunctionsEmulator.start(clock, dispatcher());
        sfn = sfnEmulator.newClient();
        String definition = Files.readString(RepoPaths.root().resolve("statemachines/approval.asl.json"))
                .replace("${NotifierFunctionArn}", NOTIFIER_ARN).replace("${ForwardFunctionArn}", FORWARD_ARN);
        stateMachineArn = sfn.createStateMachine(b -> b.name("policygate-approval").definition(definition)
                .roleArn("arn:aws:iam::123456789012:role/policygate-approval")).stateMachineArn();

        // the callback comes first: the links the notifier sends point at its front door
        LambdaWiring.Clients clients = new LambdaWiring.Clients(dynamo, s3, sfn, sesClient);
        ApprovalCallbackHandler[] callbackRef = new ApprovalCallbackHandler[1];
        front = new ApiGatewayFront((event, ctx) -> callbackRef[0].handleRequest(event, ctx));
        AwsSettings settings = settings(front.baseUrl());
        ApprovalSettings approval = new ApprovalSettings(stateMachineArn, TIMEOUT,
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:link-key-AbCdEf", "Policygate <policygate@example.com>",
                null);
        callback = new ApprovalCallbackHandler(wire(settings, approval, ApprovalSettings.Role.CALLBACK, clients).gateway());
        callbackRef[0] = callback;
        gateway = new GatewayHandler(wire(settings, approval, ApprovalSettings.Role.GATEWAY, clients).gateway(),
                settings.maxBodyBytes());
        notifier = new ApprovalNotifierHandler(wire(settings, approval, ApprovalSettings.Role.NOTIFIER, clients));
        forward = new ForwardHandler(wire(settings, approval, ApprovalSettings.Role.FORWARD, clients));
    }

    private LambdaWiring.Wired wire(AwsSettings settings, ApprovalSettings approval, ApprovalSettings.Role role,
                                    LambdaWiring.Clients clients) {
        return LambdaWiring.forEmulators(settings, approval, role, clients, UPSTREAM_KEY, LINK_KEY, clock);
    }

    private AwsSettings settings(String publicUrl) {
        Map<String, String> env = new HashMap<>();
        env.put(AwsSettings.AWS_REGION, "us-east-1");
        env.put(AwsSettings.TABLE, TABLE);
        env.put(AwsSettings.BUCKET, BUCKET);
        env.put(AwsSettings.UPSTREAM_URL, anthropic.baseUrl());
        env.put(AwsSettings.API_KEY_SECRET_ARN, "arn:aws:secretsmanager:us-east-1:123456789012:secret:unused-AbCdEf");
        env.put(AwsSettings.PUBLIC_URL, publicUrl);
        return AwsSettings.fromEnvironment(env);
    }

    /** The state machine's Lambda tasks, run in process through the real handlers. */
    private LambdaDispatcher dispatcher() {
        return (functionName, payload) -> {
            Map<String, Object> input = JSON.convertValue(payload, new TypeReference<Map<String, Object>>() { });
            Map<String, Object> output = switch (functionName) {
                case NOTIFIER_ARN -> notifier.handleRequest(input, null);
                case FORWARD_ARN -> forward.handleRequest(input, null);
                default -> throw new IllegalArgumentException("no such function: " + functionName);
            };
            return JSON.valueToTree(output);
        };
    }

    private static String newKey(DynamoApiKeyStore keys, String principal, Set<String> groups, String email) {
        String key = ApiKeys.newKey();
        String hash = ApiKeys.hash(key);
        keys.put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, groups, email, Instant.now(), false));
        return key;
    }

    /** API Gateway → the gateway function. */
    APIGatewayProxyResponseEvent call(String method, String pathAndQuery, String key, String body) {
        Map<String, String> headers = new HashMap<>();
        headers.put("content-type", "application/json");
        headers.put("anthropic-version", "2023-06-01");
        if (key != null) {
            headers.put("x-api-key", key);
        }
        APIGatewayProxyRequestEvent e = ApiGatewayFront.event(method, pathAndQuery, headers, body);
        e.setResource("/v1/{proxy+}");
        return gateway.handleRequest(e, null);
    }

    String executionArn(String sessionId) {
        return stateMachineArn.replace(":stateMachine:", ":execution:") + ":" + sessionId;
    }

    JsonNode json(String body) throws IOException {
        return JSON.readTree(body);
    }

    @Override
    public void close() {
        front.close();
        sfnEmulator.close();
        sesClient.close();
        ses.close();
        anthropic.close();
        dynamo.close();
        s3.close();
        backend.close();
    }
}
