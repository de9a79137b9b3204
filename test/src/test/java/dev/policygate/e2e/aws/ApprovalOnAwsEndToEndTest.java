package dev.policygate.e2e.aws;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.aws.dynamodb.DynamoApprovalStore;
import dev.policygate.aws.testing.AwsBackendAvailable;
import dev.policygate.core.approval.ApprovalLinks;
import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.sfn.model.ExecutionStatus;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The approval workflow as deployed, end to end on the emulators: request → 202 → an email per
 * approver (SES stand-in) → GET page (changes nothing) → POST decision (CSRF) → the state machine
 * resumes → Forward calls Claude once → the requester reads the masked reply. Also deny,
 * timeout (injectable clock, no sleeping) and the attacks: replay, tampered signature, expired
 * link, self-approval, an approver outside the group, CSRF without the page token, and two
 * approvers racing.
 */
@AwsBackendAvailable
class ApprovalOnAwsEndToEndTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern LINK = Pattern.compile("(http://127\\.0\\.0\\.1:[0-9]+/approvals/[A-Za-z0-9_-]{22}\\?[^\\s\"<]+)");
    private static final Pattern HIDDEN = Pattern.compile("<input type=\"hidden\" name=\"([a-z]+)\" value=\"([^\"]*)\">");
    private static final String PROMPT = "Summarise the quarterly report for dave@example.com in detail";
    private static AwsApprovalStack stack;

    @BeforeAll
    static void start() throws IOException {
        stack = new AwsApprovalStack();
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @BeforeEach
    void reset() {
        stack.ses.sent.clear();
        stack.anthropic.received.clear();
    }

    // ------------------------------------------------------------------ the three outcomes

    @Test
    void approve_forwardsOnce_andTheRequesterReadsTheMaskedReply() throws Exception {
        // GIVEN a request over the token budget, which policy holds for approval
        Held held = holdARequest();
        assertThat(held.accepted.path("status_url").asText()).endsWith("/v1/sessions/" + held.sessionId);
        assertThat(held.accepted.path("approval_groups").toString()).contains("approvers");

        // THEN each approver but the requester gets their own email, text and HTML, prompt masked
        assertThat(stack.ses.sent).extracting(s -> s.to().get(0))
                .containsExactlyInAnyOrder("alice@example.com", "bob@example.com");
        SesStandIn.Sent mail = mailTo("alice@example.com");
        assertThat(mail.from()).contains("policygate@example.com");
        assertThat(mail.subject()).contains("dev");
        assertThat(mail.text()).contains("claude-sonnet-4-5").contains("[EMAIL]").doesNotContain("dave@example.com")
                .contains("A generation budget above 8192 tokens needs approval.");
        assertThat(mail.html()).contains("[EMAIL]").doesNotContain("dave@example.com").contains("<a href=");
        assertThat(stack.sfn.describeExecution(b -> b.executionArn(stack.executionArn(held.sessionId))).status())
                .isEqualTo(ExecutionStatus.RUNNING);

        // WHEN alice opens her link (a mail scanner would too): nothing changes
        String link = linkIn(mail);
        String bobLink = linkIn(mailTo("bob@example.com"));
        Map<String, String> bobForm = formOf(get(bobLink).body(), "deny");
        HttpResponse<String> page = get(link);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Approve").contains("Deny").contains("[EMAIL]");
        assertThat(status(held.sessionId)).isEqualTo("PENDING_APPROVAL");
        assertThat(stack.anthropic.received).isEmpty();

        // AND she approves with the page's CSRF token
        HttpResponse<String> done = post(link, formOf(page.body(), "approve"));
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).contains("You approved the request");

        // THEN the state machine forwards, once, and completes
        assertThat(stack.sfnEmulator.awaitTerminal(stack.executionArn(held.sessionId), Duration.ofSeconds(30)))
                .isEqualTo("SUCCEEDED");
        assertThat(stack.anthropic.received).hasSize(1);
        assertThat(stack.anthropic.received.get(0).headers().get("X-api-key")).containsExactly(AwsApprovalStack.UPSTREAM_KEY);
        // AND the requester reads the reply, masked for them, with a long-poll that returns at once
        APIGatewayProxyResponseEvent read = stack.call("GET", "/v1/sessions/" + held.sessionId + "?wait=20",
                stack.developerKey, null);
        JsonNode session = stack.json(read.getBody());
        assertThat(session.path("status").asText()).isEqualTo("COMPLETED");
        assertThat(session.path("reply").path("content").get(0).path("text").asText())
                .isEqualTo("echo: " + PROMPT.replace("dave@example.com", "[EMAIL]"));
        // AND the recording carries the approval trail, masked content only
        JsonNode recording = recording(held.sessionId);
        assertThat(recording.path("approval").toString()).contains("requested").contains("approved")
                .contains("re-evaluated:ALLOW").contains("alice@example.com");
        assertThat(recording.toString()).doesNotContain("dave@example.com");
        // AND the held request is gone from the bucket
        assertThatThrownBy(() -> stack.s3.getObjectAsBytes(b -> b.bucket(AwsApprovalStack.BUCKET)
                .key("held/" + held.sessionId + "/request"))).isInstanceOf(NoSuchKeyException.class);

        // WHEN bob clicks his link afterwards, or alice replays hers
        HttpResponse<String> late = post(bobLink, bobForm);
        HttpResponse<String> replay = post(link, formOf(page.body(), "approve"));
        // THEN each gets a clear page saying who decided, and nothing changes
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(late.body()).contains("already approved by alice@example.com");
        assertThat(replay.statusCode()).isEqualTo(409);
        assertThat(stack.anthropic.received).hasSize(1);
    }

    @Test
    void deny_endsRejected_andNothingIsForwarded() throws Exception {
        Held held = holdARequest();
        String link = linkIn(mailTo("bob@example.com"));
        HttpResponse<String> done = post(link, formOf(get(link).body(), "deny"));
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).contains("You denied the request");

        assertThat(stack.sfnEmulator.awaitTerminal(stack.executionArn(held.sessionId), Duration.ofSeconds(30)))
                .isEqualTo("SUCCEEDED");
        assertThat(status(held.sessionId)).isEqualTo("REJECTED");
        assertThat(stack.anthropic.received).isEmpty();
        JsonNode recording = recording(held.sessionId);
        assertThat(recording.path("approval").toString()).contains("denied").contains("bob@example.com");
        assertThat(recording.path("error").path("message").asText()).isEqualTo("An approver denied the request.");
        // alice's link now says what happened
        HttpResponse<String> late = get(linkIn(mailTo("alice@example.com")));
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(late.body()).contains("already denied by bob@example.com");
    }

    @Test
    void nobodyDecides_theStateMachineTimesOut_andTheSessionEndsExpired() throws Exception {
        Held held = holdARequest();
        String link = linkIn(mailTo("alice@example.com"));
        stack.sfnEmulator.awaitEvent(stack.executionArn(held.sessionId), "TaskSubmitted", Duration.ofSeconds(10));

        // WHEN the approval window passes (the injectable clock; nothing sleeps for an hour)
        stack.clock.advance(AwsApprovalStack.TIMEOUT.plusSeconds(1));

        // THEN the state machine takes its Expired path and records it
        assertThat(stack.sfnEmulator.awaitTerminal(stack.executionArn(held.sessionId), Duration.ofSeconds(30)))
                .isEqualTo("SUCCEEDED");
        assertThat(status(held.sessionId)).isEqualTo("EXPIRED");
        ApprovalRecord record = new DynamoApprovalStore(stack.dynamo, AwsApprovalStack.TABLE)
                .findBySession(held.sessionId).orElseThrow();
        assertThat(record.state()).isEqualTo(ApprovalState.EXPIRED);
        // AND a late click gets the expired page, and nothing is forwarded
        HttpResponse<String> late = get(link);
        assertThat(late.statusCode()).isEqualTo(410);
        assertThat(late.body()).contains("expired");
        assertThat(stack.anthropic.received).isEmpty();
    }

    // ------------------------------------------------------------------ attacks

    @Test
    void forgedLinks_allGetTheSameGenericRefusal_areRecorded_andChangeNothing() throws Exception {
        Held held = holdARequest();
        String link = linkIn(mailTo("alice@example.com"));
        Map<String, String> q = query(link);
        String id = URI.create(link).getPath().substring("/approvals/".length());
        long exp = Long.parseLong(q.get("exp"));
        ApprovalLinks signer = new ApprovalLinks(AwsApprovalStack.LINK_KEY);
        String base = stack.front.baseUrl() + "/approvals/";

        List<String> forged = List.of(
                // tampered signature
                base + id + "?approver=" + enc("alice@example.com") + "&exp=" + exp + "&sig=" + flip(q.get("sig")),
                // another approver's name on alice's signature
                base + id + "?approver=" + enc("bob@example.com") + "&exp=" + exp + "&sig=" + q.get("sig"),
                // a later expiry on alice's signature
                base + id + "?approver=" + enc("alice@example.com") + "&exp=" + (exp + 86400) + "&sig=" + q.get("sig"),
                // an unknown approval id
                base + "AAAAAAAAAAAAAAAAAAAAAA?approver=" + enc("alice@example.com") + "&exp=" + exp + "&sig="
                        + signer.sign("AAAAAAAAAAAAAAAAAAAAAA", "alice@example.com", exp),
                // a correctly signed link for someone outside the group (a leaked key would give this)
                base + id + "?approver=" + enc("mallory@example.com") + "&exp=" + exp + "&sig="
                        + signer.sign(id, "mallory@example.com", exp),
                // self-approval: the requester is in the group, but never gets a link of their own
                base + id + "?approver=" + enc("dev@example.com") + "&exp=" + exp + "&sig="
                        + signer.sign(id, "dev@example.com", exp));
        String genericBody = null;
        for (String f : forged) {
            HttpResponse<String> r = get(f);
            assertThat(r.statusCode()).as(f).isEqualTo(403);
            assertThat(r.body()).contains("This approval link is not valid.");
            genericBody = genericBody == null ? r.body() : genericBody;
            assertThat(r.body()).as("no oracle: every refusal is the same page").isEqualTo(genericBody);
            // each refusal is recorded as a session of its own
            String refusalSession = r.headers().firstValue("x-policygate-session-id").orElseThrow();
            assertThat(indexedStatus(refusalSession)).isEqualTo("INVALID");
            // and a POST with a made-up CSRF token is refused the same way
            Map<String, String> form = new LinkedHashMap<>(query(f));
            form.put("csrf", "x");
            form.put("decision", "approve");
            assertThat(post(f.substring(0, f.indexOf('?')), form).statusCode()).isEqualTo(403);
        }
        assertThat(stack.ses.sent).extracting(s -> s.to().get(0)).doesNotContain("dev@example.com");

        // CSRF: alice's genuine link, POSTed without the page's token
        Map<String, String> noCsrf = new LinkedHashMap<>(q);
        noCsrf.put("decision", "approve");
        HttpResponse<String> csrf = post(link.substring(0, link.indexOf('?')), noCsrf);
        assertThat(csrf.statusCode()).isEqualTo(403);

        // nothing changed
        assertThat(status(held.sessionId)).isEqualTo("PENDING_APPROVAL");
        assertThat(stack.anthropic.received).isEmpty();
        assertThat(stack.sfn.describeExecution(b -> b.executionArn(stack.executionArn(held.sessionId))).status())
                .isEqualTo(ExecutionStatus.RUNNING);
        // cleanup: deny it so that the execution ends
        post(link, formOf(get(link).body(), "deny"));
        stack.sfnEmulator.awaitTerminal(stack.executionArn(held.sessionId), Duration.ofSeconds(30));
    }

    @Test
    void twoApproversRacing_exactlyOneDecisionWins_andClaudeIsCalledOnce() throws Exception {
        Held held = holdARequest();
        String aliceLink = linkIn(mailTo("alice@example.com"));
        String bobLink = linkIn(mailTo("bob@example.com"));
        Map<String, String> aliceForm = formOf(get(aliceLink).body(), "approve");
        Map<String, String> bobForm = formOf(get(bobLink).body(), "deny");

        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch go = new CountDownLatch(1);
        List<Callable<HttpResponse<String>>> clicks = List.of(
                () -> { go.await(); return post(aliceLink, aliceForm); },
                () -> { go.await(); return post(bobLink, bobForm); });
        List<Future<HttpResponse<String>>> results = new ArrayList<>();
        clicks.forEach(c -> results.add(pool.submit(c)));
        go.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (Future<HttpResponse<String>> f : results) {
            statuses.add(f.get(30, TimeUnit.SECONDS).statusCode());
        }
        pool.shutdownNow();

        assertThat(statuses).containsExactlyInAnyOrder(200, 409);
        stack.sfnEmulator.awaitTerminal(stack.executionArn(held.sessionId), Duration.ofSeconds(30));
        String end = status(held.sessionId);
        assertThat(end).isIn("COMPLETED", "REJECTED");
        assertThat(stack.anthropic.received).hasSize(end.equals("COMPLETED") ? 1 : 0);
    }

    @Test
    void sesDown_theRequesterStillGets202_andTheSessionEndsFailed_notHeldForever() throws Exception {
        stack.ses.failing = true;
        try {
            Held held = holdARequest(false);
            assertThat(stack.sfnEmulator.awaitTerminal(stack.executionArn(held.sessionId), Duration.ofSeconds(60)))
                    .isEqualTo("FAILED");
            assertThat(status(held.sessionId)).isEqualTo("FAILED");
            assertThat(stack.anthropic.received).isEmpty();
        } finally {
            stack.ses.failing = false;
        }
    }

    // ------------------------------------------------------------------ helpers

    private record Held(String sessionId, JsonNode accepted) {
    }

    private static Held holdARequest() throws IOException, InterruptedException {
        return holdARequest(true);
    }

    private static Held holdARequest(boolean awaitNotified) throws IOException, InterruptedException {
        String body = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":10000,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + PROMPT + "\"}]}";
        APIGatewayProxyResponseEvent r = stack.call("POST", "/v1/messages", stack.developerKey, body);
        assertThat(r.getStatusCode()).as(r.getBody()).isEqualTo(202);
        String id = r.getHeaders().get("x-policygate-session-id");
        if (awaitNotified) {
            stack.sfnEmulator.awaitEvent(stack.executionArn(id), "TaskSubmitted", Duration.ofSeconds(30));
        }
        return new Held(id, stack.json(r.getBody()));
    }

    private static String status(String sessionId) throws IOException {
        return status(sessionId, stack.developerKey);
    }

    private static String status(String sessionId, String key) throws IOException {
        APIGatewayProxyResponseEvent r = stack.call("GET", "/v1/sessions/" + sessionId, key, null);
        assertThat(r.getStatusCode()).as(r.getBody()).isEqualTo(200);
        return stack.json(r.getBody()).path("status").asText();
    }

    /** The session index entry's status, straight from the table (refusals have no principal to read them). */
    private static String indexedStatus(String sessionId) {
        return stack.dynamo.getItem(b -> b.tableName(AwsApprovalStack.TABLE).consistentRead(true).key(Map.of(
                "pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("SESSION#" + sessionId))))
                .item().get("status").s();
    }

    private static JsonNode recording(String sessionId) throws IOException {
        APIGatewayProxyResponseEvent r = stack.call("GET", "/v1/sessions/" + sessionId + "/recording",
                stack.developerKey, null);
        assertThat(r.getStatusCode()).as(r.getBody()).isEqualTo(200);
        return stack.json(r.getBody());
    }

    private static SesStandIn.Sent mailTo(String email) {
        return stack.ses.sent.stream().filter(s -> s.to().contains(email)).reduce((a, b) -> b).orElseThrow(
                () -> new AssertionError("no email to " + email + " in " + stack.ses.sent));
    }

    static String linkIn(SesStandIn.Sent mail) {
        Matcher m = LINK.matcher(mail.text());
        assertThat(m.find()).as(mail.text()).isTrue();
        return m.group(1);
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String url, Map<String, String> form)
            throws IOException, InterruptedException {
        StringBuilder b = new StringBuilder();
        form.forEach((k, v) -> b.append(b.length() == 0 ? "" : "&").append(enc(k)).append('=').append(enc(v)));
        String target = url.contains("?") ? url.substring(0, url.indexOf('?')) : url;
        return HTTP.send(HttpRequest.newBuilder(URI.create(target))
                .header("content-type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(b.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, String> formOf(String page, String decision) {
        Map<String, String> form = new LinkedHashMap<>();
        Matcher m = HIDDEN.matcher(page);
        while (m.find()) {
            form.put(m.group(1), m.group(2).replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", "\"")
                    .replace("&lt;", "<").replace("&gt;", ">"));
        }
        assertThat(form).as(page).containsKeys("approver", "exp", "sig", "csrf");
        form.put("decision", decision);
        return form;
    }

    private static Map<String, String> query(String url) {
        Map<String, String> q = new LinkedHashMap<>();
        for (String pair : URI.create(url).getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            q.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return q;
    }

    private static String flip(String sig) {
        char c = sig.charAt(0);
        return (c == 'A' ? 'B' : 'A') + sig.substring(1);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
