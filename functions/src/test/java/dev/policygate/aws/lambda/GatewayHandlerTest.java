package dev.policygate.aws.lambda;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.aws.dynamodb.DynamoApiKeyStore;
import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.testing.AwsBackend;
import dev.policygate.aws.testing.AwsBackendAvailable;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionIds;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link GatewayHandler} end to end: API Gateway proxy events from {@code events/apigateway/}
 * go through the handler built from {@link AwsSettings}, with the session index in DynamoDB, the
 * recordings in S3 and a fake Anthropic API, all on 127.0.0.1. DynamoDB and S3 come from the
 * {@link AwsBackend}: dynalite and s3rver by default, LocalStack under {@code mvn -Plocalstack}
 * (skipped where no Docker engine runs). The suite is the same for both.
 */
@AwsBackendAvailable
class GatewayHandlerTest {
    private static final String TABLE = "policygate";
    private static final String BUCKET = "policygate-recordings";
    private static final String UPSTREAM_KEY = "sk-ant-upstream-test-key";
    private static final String EMAIL = "jane.doe@example.com";
    private static final String MASKED_REPLY = "echo: Draft a two-line reply to [EMAIL] confirming that invoice 4471 "
            + "is paid.";
    private static final int MAX_BODY_BYTES = 16 * 1024;
    private static final String SESSION_HEADER = "x-policygate-session-id";

    private static AwsBackend backend;
    private static FakeAnthropicApi anthropic;
    private static DynamoDbClient dynamo;
    private static S3Client s3;
    private static GatewayHandler handler;
    private static String developerKey;
    private static String contractorKey;

    @BeforeAll
    static void start() throws IOException {
        backend = AwsBackend.start();
        anthropic = new FakeAnthropicApi();
        dynamo = backend.newDynamoClient();
        s3 = backend.newS3Client();
        PolicygateTable.create(dynamo, TABLE);
        s3.createBucket(b -> b.bucket(BUCKET));
        DynamoApiKeyStore keys = new DynamoApiKeyStore(dynamo, TABLE);
        developerKey = newKey(keys, "dev", Set.of("developers"), "dev@example.com");
        contractorKey = newKey(keys, "contractor", Set.of("contractors"), null);

        Map<String, String> env = new HashMap<>();
        env.put(AwsSettings.AWS_REGION, "eu-west-1");
        env.put(AwsSettings.TABLE, TABLE);
        env.put(AwsSettings.BUCKET, BUCKET);
        env.put(AwsSettings.UPSTREAM_URL, anthropic.baseUrl().toString());
        // not read: the emulator wiring takes the upstream key directly
        env.put(AwsSettings.API_KEY_SECRET_ARN, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:unused-AbCdEf");
        env.put(AwsSettings.PUBLIC_URL, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod");
        env.put(AwsSettings.MAX_BODY_BYTES, Integer.toString(MAX_BODY_BYTES));
        AwsSettings settings = AwsSettings.fromEnvironment(env);
        handler = new GatewayHandler(LambdaWiring.forEmulators(settings, dynamo, s3, UPSTREAM_KEY),
                settings.maxBodyBytes());
    }

    @AfterAll
    static void stop() {
        if (anthropic != null) {
            anthropic.close();
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

    private static String newKey(DynamoApiKeyStore keys, String principal, Set<String> groups, String email) {
        String key = ApiKeys.newKey();
        String hash = ApiKeys.hash(key);
        keys.put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, groups, email, Instant.now(), false));
        return key;
    }

    // ------------------------------------------------------------------ POST /v1/messages

    @Test
    void postMessages_returnsTheReplyWithTheEmailMasked_andRecordsACompletedAllowedSession() throws IOException {
        // GIVEN a developer's request whose prompt names an email address (echoed by the upstream)
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json", developerKey);

        // WHEN API Gateway invokes the handler
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN the reply is an Anthropic message, the email masked for a caller outside pii-readers
        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(response.getHeaders()).containsEntry("content-type", "application/json")
                .containsEntry("request-id", "req_fake_json");
        JsonNode reply = json(response.getBody());
        assertThat(reply.path("type").asText()).isEqualTo("message");
        assertThat(reply.path("role").asText()).isEqualTo("assistant");
        assertThat(reply.path("content").get(0).path("text").asText()).isEqualTo(MASKED_REPLY);
        assertThat(response.getBody()).doesNotContain(EMAIL);
        // AND the upstream got the prompt (policy lets models read PII) with the gateway's own key
        assertThat(anthropic.last().apiKey()).isEqualTo(UPSTREAM_KEY);
        assertThat(anthropic.last().body()).contains(EMAIL);
        // AND the session is indexed and recorded, masked, with the address API Gateway saw
        String id = sessionId(response);
        assertSession(id, "COMPLETED", "ALLOW");
        ObjectNode recording = recording(id);
        assertThat(recording.path("reply").path("content").get(0).path("text").asText()).isEqualTo(MASKED_REPLY);
        assertThat(recording.path("principal").path("id").asText()).isEqualTo("dev");
        assertThat(recording.path("source_ip").asText()).isEqualTo("203.0.113.42");
        assertThat(recording.toString()).doesNotContain(EMAIL).doesNotContain(developerKey);
    }

    @Test
    void postMessages_thatWouldOutliveTheInvocation_isCutBeforeTheDeadline_andRecordedAsFailed() throws IOException {
        // GIVEN a slow generation and an invocation with 3.6 s left (3 s are kept for recording)
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json", developerKey);
        ObjectNode body = (ObjectNode) json(event.getBody());
        ((ObjectNode) body.get("messages").get(0)).put("content", "take your time");
        event.setBody(body.toString());
        event.setIsBase64Encoded(false);
        com.amazonaws.services.lambda.runtime.Context context = (com.amazonaws.services.lambda.runtime.Context)
                java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                        new Class<?>[]{com.amazonaws.services.lambda.runtime.Context.class},
                        (proxy, method, args) -> method.getName().equals("getRemainingTimeInMillis") ? 3_600 : null);

        // WHEN the handler runs
        long t0 = System.nanoTime();
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, context);

        // THEN it answers 504 well before the slow reply, and the session says FAILED
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0)).isLessThan(java.time.Duration.ofSeconds(3));
        assertThat(response.getStatusCode()).isEqualTo(504);
        assertSession(sessionId(response), "FAILED", "ALLOW");
    }

    @Test
    void postMessages_withAStreamTooLargeForALambdaResponse_isCutWithAnErrorEvent_andRecordedAsFailed()
            throws IOException {
        // GIVEN a streamed echo of a prompt whose framed SSE exceeds what one invocation may return
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-stream.json", developerKey);
        ObjectNode body = (ObjectNode) json(event.getBody());
        ((ObjectNode) body.get("messages").get(0)).put("content", "make 60000 words");
        event.setBody(body.toString());
        event.setIsBase64Encoded(false);

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN the body stays under the cap and ends with an error event, and the session is FAILED
        assertThat(response.getBody().length()).isLessThanOrEqualTo(GatewayHandler.MAX_STREAM_BYTES + 1024);
        assertThat(response.getBody()).endsWith("\n\n").contains("event: error").doesNotContain("message_stop");
        assertSession(sessionId(response), "FAILED", "ALLOW");
    }

    @Test
    void postMessages_withStreamTrue_returnsTheWholeEventStream_framedAndMasked() throws IOException {
        // GIVEN a streaming request (the Java runtime cannot stream, so the handler relays it whole)
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-stream.json", developerKey);

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN the body is a complete, correctly framed event stream
        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(response.getHeaders().get("content-type")).startsWith("text/event-stream");
        List<String[]> events = sseEvents(response.getBody());
        assertThat(events).first().satisfies(e -> assertThat(e[0]).isEqualTo("message_start"));
        assertThat(events).last().satisfies(e -> assertThat(e[0]).isEqualTo("message_stop"));
        assertThat(events).extracting(e -> e[0]).contains("content_block_start", "content_block_delta",
                "content_block_stop", "message_delta");
        for (String[] e : events) {
            assertThat(json(e[1]).path("type").asText()).isEqualTo(e[0]);
        }
        // AND the text deltas spell the masked reply: the email, split across deltas, never leaks
        StringBuilder text = new StringBuilder();
        events.stream().filter(e -> e[0].equals("content_block_delta"))
                .forEach(e -> text.append(json(e[1]).path("delta").path("text").asText()));
        assertThat(text.toString()).isEqualTo(MASKED_REPLY);
        assertThat(response.getBody()).doesNotContain(EMAIL);
        // AND the session is completed, its assembled reply recorded masked
        String id = sessionId(response);
        assertSession(id, "COMPLETED", "ALLOW");
        ObjectNode recording = recording(id);
        assertThat(recording.path("stream").asBoolean()).isTrue();
        assertThat(recording.path("reply").path("content").get(0).path("text").asText()).isEqualTo(MASKED_REPLY);
        assertThat(recording.toString()).doesNotContain(EMAIL);
    }

    @Test
    void postMessages_withABase64EncodedBody_isDecodedBeforeTheGatewayReadsIt() throws IOException {
        // GIVEN the request as API Gateway sends it when binary media types apply
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-base64.json", developerKey);
        assertThat(event.getIsBase64Encoded()).isTrue();

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN the gateway read the decoded JSON and answered as for a plain body
        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(json(response.getBody()).path("content").get(0).path("text").asText()).isEqualTo(MASKED_REPLY);
        assertSession(sessionId(response), "COMPLETED", "ALLOW");
    }

    @Test
    void postMessages_fromAPrincipalNoPolicyPermits_isDenied403_andRecordedAsDenied() throws IOException {
        // GIVEN a contractor, whom no policy permits to invoke models
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json", contractorKey);
        int upstreamCalls = anthropic.received.size();

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN an Anthropic-shaped permission error, nothing forwarded
        assertThat(response.getStatusCode()).isEqualTo(403);
        JsonNode error = json(response.getBody());
        assertThat(error.path("type").asText()).isEqualTo("error");
        assertThat(error.path("error").path("type").asText()).isEqualTo("permission_error");
        String id = sessionId(response);
        assertThat(error.path("request_id").asText()).isEqualTo(id);
        assertThat(anthropic.received).hasSize(upstreamCalls);
        // AND the session is a DENIED one, recorded with its decision
        assertSession(id, "DENIED", "DENY");
        ObjectNode recording = recording(id);
        assertThat(recording.path("decision").path("outcome").asText()).isEqualTo("DENY");
        assertThat(recording.toString()).doesNotContain(EMAIL);
    }

    @Test
    void postMessages_thatNeedsApproval_isRefused403_becauseApprovalsAreNotWiredOnAws() throws IOException {
        // GIVEN a budget above 8192 tokens, which policy holds for the approvers group
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json", developerKey);
        ObjectNode body = (ObjectNode) json(event.getBody());
        body.put("max_tokens", 10000);
        event.setBody(Json.mapper().writeValueAsString(body));

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN it fails closed: 403 naming the approval policy, and a DENIED session
        assertThat(response.getStatusCode()).isEqualTo(403);
        JsonNode error = json(response.getBody()).path("error");
        assertThat(error.path("type").asText()).isEqualTo("permission_error");
        assertThat(error.path("policy_ids")).extracting(JsonNode::asText).contains("large-budget-needs-approval");
        assertSession(sessionId(response), "DENIED", "APPROVAL");
    }

    @Test
    void postMessages_withoutCredentials_is401_andRecordedAsUnauthenticated() throws IOException {
        // GIVEN a request without x-api-key
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json");
        ProxyEvents.setHeader(event, "x-api-key", null);

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN 401 authentication_error, and the attempt is still a recorded session
        assertThat(response.getStatusCode()).isEqualTo(401);
        assertThat(json(response.getBody()).path("error").path("type").asText()).isEqualTo("authentication_error");
        String id = sessionId(response);
        Map<String, AttributeValue> item = sessionItem(id);
        assertThat(item.get("status").s()).isEqualTo("UNAUTHENTICATED");
        assertThat(item).doesNotContainKey("principal");
        assertThat(recording(id).path("http_status").asInt()).isEqualTo(401);
    }

    @Test
    void postMessages_withABodyOverTheConfiguredLimit_is413_withoutReadingIt() throws IOException {
        // GIVEN a body larger than POLICYGATE_MAX_BODY_BYTES
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json", developerKey);
        ObjectNode body = (ObjectNode) json(event.getBody());
        ((ObjectNode) body.path("messages").get(0)).put("content", "x".repeat(MAX_BODY_BYTES + 1));
        event.setBody(Json.mapper().writeValueAsString(body));

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN 413 request_too_large, recorded as INVALID
        assertThat(response.getStatusCode()).isEqualTo(413);
        assertThat(json(response.getBody()).path("error").path("type").asText()).isEqualTo("request_too_large");
        assertThat(sessionItem(sessionId(response)).get("status").s()).isEqualTo("INVALID");
    }

    @Test
    void postMessages_readsMultiValueHeaders_whenTheSingleValueMapIsAbsent() throws IOException {
        // GIVEN an event that carries its headers in multiValueHeaders only
        APIGatewayProxyRequestEvent event = ProxyEvents.load("messages-post.json", developerKey);
        event.setHeaders(null);

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN the key was found there (its name lower-cased) and the request went through
        assertThat(response.getStatusCode()).isEqualTo(200);
        assertSession(sessionId(response), "COMPLETED", "ALLOW");
    }

    // ------------------------------------------------------------------ other routes

    @Test
    void postCountTokens_returnsTheUpstreamCount_underTheSamePolicy() throws IOException {
        // GIVEN a count_tokens request
        APIGatewayProxyRequestEvent event = ProxyEvents.load("count-tokens-post.json", developerKey);

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN the Anthropic count comes back, and the session is an allowed one
        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(json(response.getBody()).path("input_tokens").asInt()).isEqualTo(19);
        assertThat(anthropic.last().path()).isEqualTo("/v1/messages/count_tokens");
        assertSession(sessionId(response), "COMPLETED", "ALLOW");
    }

    @Test
    void getModels_listsOnlyClaudeModelsTheCallerMayInvoke() throws IOException {
        // GIVEN a model listing request
        APIGatewayProxyRequestEvent event = ProxyEvents.load("models-get.json", developerKey);

        // WHEN the handler runs
        APIGatewayProxyResponseEvent response = handler.handleRequest(event, null);

        // THEN the upstream list, filtered, in Anthropic's shape; the query went upstream
        assertThat(response.getStatusCode()).isEqualTo(200);
        JsonNode list = json(response.getBody());
        assertThat(list.path("data")).extracting(m -> m.path("id").asText())
                .containsExactly("claude-sonnet-4-5", "claude-opus-4-1");
        assertThat(list.has("has_more")).isTrue();
        assertThat(anthropic.last().path()).isEqualTo("/v1/models");
        assertSession(sessionId(response), "COMPLETED", "FILTERED");
    }

    @Test
    void getSessions_listsTheCallersOwnSessions_newestFirst() throws IOException {
        // GIVEN a completed request by the developer
        String earlier = sessionId(handler.handleRequest(ProxyEvents.load("messages-post.json", developerKey), null));

        // WHEN the developer lists sessions (limit=20 in the event's query string)
        APIGatewayProxyResponseEvent response = handler.handleRequest(
                ProxyEvents.load("sessions-list.json", developerKey), null);

        // THEN the listing holds it, with its decision and status
        assertThat(response.getStatusCode()).isEqualTo(200);
        JsonNode data = json(response.getBody()).path("data");
        assertThat(data.size()).isBetween(1, 20);
        JsonNode entry = null;
        for (JsonNode s : data) {
            assertThat(s.path("principal").asText()).isEqualTo("dev");
            if (s.path("id").asText().equals(earlier)) {
                entry = s;
            }
        }
        assertThat(entry).isNotNull();
        assertThat(entry.path("status").asText()).isEqualTo("COMPLETED");
        assertThat(entry.path("decision").asText()).isEqualTo("ALLOW");
        assertSession(sessionId(response), "COMPLETED", "READ");
    }

    @Test
    void getSession_returnsStatusDecisionAndTheMaskedReply_toItsOwner() throws IOException {
        // GIVEN a completed request by the developer
        String earlier = sessionId(handler.handleRequest(ProxyEvents.load("messages-post.json", developerKey), null));

        // WHEN the developer reads it by id
        APIGatewayProxyResponseEvent response = handler.handleRequest(
                ProxyEvents.forSession(ProxyEvents.load("session-get.json", developerKey), earlier), null);

        // THEN its status, decision and masked reply come back
        assertThat(response.getStatusCode()).isEqualTo(200);
        JsonNode session = json(response.getBody());
        assertThat(session.path("type").asText()).isEqualTo("session");
        assertThat(session.path("id").asText()).isEqualTo(earlier);
        assertThat(session.path("status").asText()).isEqualTo("COMPLETED");
        assertThat(session.path("decision").asText()).isEqualTo("ALLOW");
        assertThat(session.path("reply").path("content").get(0).path("text").asText()).isEqualTo(MASKED_REPLY);
    }

    @Test
    void getSession_ofAnotherPrincipal_is404_asIfItDidNotExist() throws IOException {
        // GIVEN the developer's session
        String earlier = sessionId(handler.handleRequest(ProxyEvents.load("messages-post.json", developerKey), null));

        // WHEN the contractor asks for it
        APIGatewayProxyResponseEvent response = handler.handleRequest(
                ProxyEvents.forSession(ProxyEvents.load("session-get.json", contractorKey), earlier), null);

        // THEN it does not exist for them
        assertThat(response.getStatusCode()).isEqualTo(404);
        assertThat(json(response.getBody()).path("error").path("type").asText()).isEqualTo("not_found_error");
    }

    @Test
    void getRecording_returnsTheMaskedExchangeFromS3_toItsOwnerOnly() throws IOException {
        // GIVEN a completed request by the developer
        String earlier = sessionId(handler.handleRequest(ProxyEvents.load("messages-post.json", developerKey), null));

        // WHEN the developer, then the contractor, read its recording
        APIGatewayProxyResponseEvent own = handler.handleRequest(
                ProxyEvents.forSession(ProxyEvents.load("session-recording-get.json", developerKey), earlier), null);
        APIGatewayProxyResponseEvent other = handler.handleRequest(
                ProxyEvents.forSession(ProxyEvents.load("session-recording-get.json", contractorKey), earlier), null);

        // THEN the owner gets the masked exchange, and the contractor nothing
        assertThat(own.getStatusCode()).isEqualTo(200);
        JsonNode rec = json(own.getBody());
        assertThat(rec.path("session_id").asText()).isEqualTo(earlier);
        assertThat(rec.path("decision").path("outcome").asText()).isEqualTo("ALLOW");
        assertThat(rec.path("reply").path("content").get(0).path("text").asText()).isEqualTo(MASKED_REPLY);
        assertThat(other.getStatusCode()).isEqualTo(404);
    }

    // ------------------------------------------------------------------ helpers

    private static JsonNode json(String text) {
        try {
            return Json.mapper().readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    private static String sessionId(APIGatewayProxyResponseEvent response) {
        String id = response.getHeaders().get(SESSION_HEADER);
        assertThat(SessionIds.isValid(id)).as("session id header %s", id).isTrue();
        return id;
    }

    private static Map<String, AttributeValue> sessionItem(String id) {
        var item = dynamo.getItem(b -> b.tableName(TABLE).consistentRead(true)
                .key(Map.of(PolicygateTable.PK, AttributeValue.fromS(PolicygateTable.SESSION_PREFIX + id))));
        assertThat(item.hasItem()).as("session %s in DynamoDB", id).isTrue();
        return item.item();
    }

    private static void assertSession(String id, String status, String decision) {
        Map<String, AttributeValue> item = sessionItem(id);
        assertThat(item.get("status").s()).isEqualTo(status);
        assertThat(item.get("decision").s()).isEqualTo(decision);
    }

    /** The recording object, checked to be gzip (magic bytes 1f 8b) and read as JSON. */
    private static ObjectNode recording(String id) throws IOException {
        String day = sessionItem(id).get("started_at").s().substring(0, 10).replace('-', '/');
        byte[] stored = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("sessions/" + day + "/" + id + ".json.gz"))
                .asByteArray();
        assertThat(stored).startsWith((byte) 0x1f, (byte) 0x8b);
        byte[] text;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(stored))) {
            text = in.readAllBytes();
        }
        JsonNode recording = Json.mapper().readTree(text);
        assertThat(recording.path("session_id").asText()).isEqualTo(id);
        return (ObjectNode) recording;
    }

    /** Each event as {name, data}; fails unless every event is exactly "event:" + "data:" + blank line. */
    private static List<String[]> sseEvents(String body) {
        assertThat(body).endsWith("\n\n");
        List<String[]> events = new ArrayList<>();
        for (String block : body.substring(0, body.length() - 2).split("\n\n", -1)) {
            String[] lines = block.split("\n", -1);
            assertThat(lines).as("event block %s", block).hasSize(2);
            assertThat(lines[0]).startsWith("event: ");
            assertThat(lines[1]).startsWith("data: ");
            events.add(new String[]{lines[0].substring(7), lines[1].substring(6)});
        }
        return events;
    }
}
