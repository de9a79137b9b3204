package dev.policygate.aws.logging;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.policygate.aws.AwsClients;
import dev.policygate.aws.dynamodb.DynamoApiKeyStore;
import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.lambda.ApprovalSettings;
import dev.policygate.aws.lambda.AwsSettings;
import dev.policygate.aws.lambda.GatewayHandler;
import dev.policygate.aws.lambda.LambdaWiring;
import dev.policygate.aws.testing.AwsBackend;
import dev.policygate.aws.testing.AwsBackendAvailable;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.json.Json;
import dev.policygate.testing.Fixtures;
import org.apache.logging.log4j.core.LoggerContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the Lambda functions log, end to end: {@link GatewayHandler} built by {@link LambdaWiring}
 * over dynalite and s3rver, {@link LambdaLogging} installed as in Lambda, stdout and stderr
 * captured. The upstream rejects the gateway's credential, so the core logs a session line, and
 * its error body quotes the upstream key and the prompt, so that a leak would show.
 */
@AwsBackendAvailable
class LambdaLogsTest {
    private static final String TABLE = "policygate";
    private static final String BUCKET = "policygate-recordings";
    private static final String UPSTREAM_KEY = "sk-ant-api03-upstream-secret-0123456789abcdef";
    private static final String EMAIL = "jane.doe@example.com";
    private static final String SESSION = "01JDA6C0V8Q5N4M3K2J1H0G9F8";

    private static AwsBackend backend;
    private static DynamoDbClient dynamo;
    private static S3Client s3;
    private static HttpServer upstream;
    private static GatewayHandler handler;
    private static String headerKey;
    private static String bearerKey;
    private static PrintStream realOut;
    private static PrintStream realErr;
    private static final ByteArrayOutputStream OUT = new ByteArrayOutputStream();
    private static final ByteArrayOutputStream ERR = new ByteArrayOutputStream();

    @BeforeAll
    static void start() throws IOException {
        backend = AwsBackend.start();
        dynamo = backend.newDynamoClient();
        s3 = backend.newS3Client();
        PolicygateTable.create(dynamo, TABLE);
        s3.createBucket(b -> b.bucket(BUCKET));
        DynamoApiKeyStore keys = new DynamoApiKeyStore(dynamo, TABLE);
        headerKey = newKey(keys, "dev");
        bearerKey = newKey(keys, "ci");
        upstream = rejectingUpstream();

        Map<String, String> env = new HashMap<>();
        env.put(AwsSettings.AWS_REGION, "eu-west-1");
        env.put(AwsSettings.TABLE, TABLE);
        env.put(AwsSettings.BUCKET, BUCKET);
        env.put(AwsSettings.UPSTREAM_URL, "http://127.0.0.1:" + upstream.getAddress().getPort());
        env.put(AwsSettings.API_KEY_SECRET_ARN, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:unused-AbCdEf");
        env.put(AwsSettings.PUBLIC_URL, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod");
        AwsSettings settings = AwsSettings.fromEnvironment(env);
        // no approvals: the step functions and SES clients are built but never called
        AwsClients.Target nowhere = AwsClients.Target.emulator(URI.create("http://127.0.0.1:9"));
        LambdaWiring.Clients clients = new LambdaWiring.Clients(dynamo, s3, AwsClients.sfn(nowhere),
                AwsClients.ses(nowhere));
        ApprovalSettings approval = new ApprovalSettings(null, ApprovalSettings.DEFAULT_TIMEOUT, null, null, null);
        handler = new GatewayHandler(LambdaWiring.forEmulators(settings, approval, ApprovalSettings.Role.GATEWAY,
                clients, UPSTREAM_KEY, new byte[32], Clock.systemUTC()).gateway(), settings.maxBodyBytes());

        // as in Lambda: JSON selected, stdout captured, the bridge on JUL's root logger
        realOut = System.out;
        realErr = System.err;
        System.setOut(new PrintStream(OUT, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(ERR, true, StandardCharsets.UTF_8));
        System.setProperty("policygate.logging.json", "true");
        LoggerContext.getContext(false).reconfigure();
        LambdaLogging.install(Map.of(LambdaLogging.FUNCTION_NAME_VARIABLE, "policygate-gateway"));
    }

    @AfterAll
    static void stop() throws Exception {
        LambdaLogging.uninstall();
        System.clearProperty("policygate.logging.json");
        if (realOut != null) {
            System.setOut(realOut);
            System.setErr(realErr);
        }
        LoggerContext.getContext(false).reconfigure();
        if (upstream != null) {
            upstream.stop(0);
        }
        if (dynamo != null) {
            dynamo.close();
        }
        if (s3 != null) {
            s3.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void clearCapture() {
        OUT.reset();
        ERR.reset();
    }

    @Test
    void gatewayLines_areJsonWithTheSessionId_andHoldNoKeyTokenOrPrompt() throws IOException {
        // GIVEN two requests carrying a gateway key (x-api-key) and a bearer token, a prompt naming
        // an email address, and an upstream that rejects the gateway's key, quoting it and the prompt
        APIGatewayProxyRequestEvent withKey = event("x-api-key", headerKey);
        APIGatewayProxyRequestEvent withBearer = event("authorization", "Bearer " + bearerKey);

        // WHEN the handler serves both, in a Lambda invocation
        APIGatewayProxyResponseEvent first = handler.handleRequest(withKey, new FakeContext());
        APIGatewayProxyResponseEvent second = handler.handleRequest(withBearer, new FakeContext());

        // THEN each request's session line is JSON, with its session id and the Lambda fields
        assertThat(first.getStatusCode()).as(OUT.toString(StandardCharsets.UTF_8)).isEqualTo(502);
        assertThat(second.getStatusCode()).as(OUT.toString(StandardCharsets.UTF_8)).isEqualTo(502);
        List<JsonNode> lines = jsonLines(OUT);
        for (APIGatewayProxyResponseEvent r : List.of(first, second)) {
            String id = r.getHeaders().get("x-policygate-session-id");
            assertThat(lines).filteredOn(l -> l.path("session_id").asText().equals(id)).singleElement()
                    .satisfies(l -> {
                        assertThat(l.path("level").asText()).isEqualTo("ERROR");
                        assertThat(l.path("message").asText()).contains("upstream rejected the gateway credential");
                        assertThat(l.path("function_name").asText()).isEqualTo("policygate-gateway");
                        assertThat(l.path("function_version").asText()).isEqualTo("7");
                        assertThat(l.path("function_request_id").asText()).isEqualTo("c6af9ac6-7b61-11e6-9a41-93e812345678");
                        assertThat(l.path("cold_start").isMissingNode()).isFalse();
                        assertThat(l.path("logger").asText()).isEqualTo("dev.policygate.core.gateway.Gateway");
                        assertThat(l.path("timestamp").asText()).isNotEmpty();
                    });
        }
        // AND no credential and no prompt content reached stdout or stderr
        String everything = OUT.toString(StandardCharsets.UTF_8) + ERR.toString(StandardCharsets.UTF_8);
        assertThat(everything).doesNotContain(headerKey).doesNotContain(bearerKey).doesNotContain(UPSTREAM_KEY)
                .doesNotContain("upstream-secret").doesNotContain(EMAIL).doesNotContain("invoice 4471");
        // AND nothing went to stderr: JUL's plain console handler is gone
        assertThat(ERR.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void linesOfAKnownSession_carryItsId_evenWithoutTheSessionPrefix() {
        // GIVEN an invocation whose input names the session (the notifier's and forward's case)
        Logger adapterLog = Logger.getLogger("dev.policygate.adapters.Example");

        // WHEN code logs a line that does not name it, and the invocation ends
        LambdaLogging.invocation(new FakeContext(), SESSION, () -> {
            adapterLog.warning("the held request was read twice");
            return null;
        });
        adapterLog.warning("between invocations");

        // THEN the line inside carries the session id and the one after does not
        List<JsonNode> lines = jsonLines(OUT);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).path("session_id").asText()).isEqualTo(SESSION);
        assertThat(lines.get(0).path("level").asText()).isEqualTo("WARN");
        assertThat(lines.get(1).has("session_id")).isFalse();
        assertThat(lines.get(1).path("function_name").isTextual()).as(lines.get(1).toString()).isFalse();
    }

    @Test
    void aSessionNamedByOneLine_sticksToTheRestOfTheInvocationOnly() {
        // GIVEN an invocation that does not know its session up front (the gateway's case)
        Logger core = Logger.getLogger("dev.policygate.core.gateway.Gateway");

        // WHEN a line names the session, another follows, and a later invocation logs
        LambdaLogging.invocation(new FakeContext(), null, () -> {
            core.info("session " + SESSION + ": write-ahead failed (IOException)");
            core.info("the recording will be retried");
            return null;
        });
        LambdaLogging.invocation(new FakeContext(), null, () -> {
            core.info("a request without a session");
            return null;
        });

        // THEN both lines of the first invocation carry it, the second invocation's line does not
        List<JsonNode> lines = jsonLines(OUT);
        assertThat(lines).extracting(l -> l.path("session_id").asText(null))
                .containsExactly(SESSION, SESSION, null);
    }

    @Test
    void aCredentialInAMessage_isRedacted() {
        // GIVEN a message that, by mistake, quotes every kind of credential
        Logger log = Logger.getLogger("dev.policygate.adapters.Example");

        // WHEN it is logged
        log.warning("retrying with " + headerKey + ", Bearer " + bearerKey + " and " + UPSTREAM_KEY);

        // THEN none of them is written
        String out = OUT.toString(StandardCharsets.UTF_8);
        assertThat(out).doesNotContain(headerKey).doesNotContain(bearerKey).doesNotContain(UPSTREAM_KEY)
                .contains(Redaction.MASK);
    }

    // ------------------------------------------------------------------ helpers

    private static List<JsonNode> jsonLines(ByteArrayOutputStream out) {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                lines.add(Json.mapper().readTree(line));
            } catch (IOException e) {
                throw new AssertionError("not a JSON line: " + line, e);
            }
        }
        return lines;
    }

    private static APIGatewayProxyRequestEvent event(String header, String value) throws IOException {
        APIGatewayProxyRequestEvent e = Json.mapper().readValue(Fixtures.event("apigateway/messages-post.json"),
                APIGatewayProxyRequestEvent.class);
        Map<String, String> headers = new HashMap<>(e.getHeaders());
        headers.remove("x-api-key");
        headers.put(header, value);
        e.setHeaders(headers);
        e.setMultiValueHeaders(null);
        return e;
    }

    private static String newKey(DynamoApiKeyStore keys, String principal) {
        String key = ApiKeys.newKey();
        String hash = ApiKeys.hash(key);
        keys.put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, Set.of("developers"), null, Instant.now(),
                false));
        return key;
    }

    /** An upstream that refuses the gateway's key, quoting it and the prompt in its error. */
    private static HttpServer rejectingUpstream() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String prompt = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String quoted = Json.mapper().writeValueAsString("invalid x-api-key "
                    + ex.getRequestHeaders().getFirst("x-api-key") + " for " + prompt);
            byte[] body = ("{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"message\":" + quoted
                    + "}}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("content-type", "application/json");
            ex.sendResponseHeaders(403, body.length);
            try (var os = ex.getResponseBody()) {
                os.write(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        server.start();
        return server;
    }

    /** The Lambda context of one invocation, as the runtime passes it. */
    private static final class FakeContext implements Context {
        @Override public String getAwsRequestId() { return "c6af9ac6-7b61-11e6-9a41-93e812345678"; }
        @Override public String getLogGroupName() { return "/aws/lambda/policygate-gateway"; }
        @Override public String getLogStreamName() { return "2026/11/25/[7]0123456789abcdef"; }
        @Override public String getFunctionName() { return "policygate-gateway"; }
        @Override public String getFunctionVersion() { return "7"; }
        @Override public String getInvokedFunctionArn() {
            return "arn:aws:lambda:eu-west-1:123456789012:function:policygate-gateway:live";
        }
        @Override public CognitoIdentity getIdentity() { return null; }
        @Override public ClientContext getClientContext() { return null; }
        @Override public int getRemainingTimeInMillis() { return 60_000; }
        @Override public int getMemoryLimitInMB() { return 1024; }
        @Override public LambdaLogger getLogger() { return null; }
    }
}
