package dev.policygate.aws.dynamodb;

import dev.policygate.aws.AwsClients;
import dev.policygate.aws.testing.Emulator;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Failure injection: interceptors on a real client against dynalite make DynamoDB throttle or
 * lose replies, to check that the SDK's bounded retries run and what the adapters make of the end.
 */
class DynamoFailureInjectionTest {
    static Emulator dynalite;
    static DynamoDbClient plainClient;
    String table;

    @BeforeAll
    static void startDynalite() throws IOException {
        dynalite = Emulator.dynalite();
        plainClient = AwsClients.dynamo(AwsClients.Target.emulator(dynalite.endpoint()));
    }

    @AfterAll
    static void stopDynalite() {
        if (plainClient != null) {
            plainClient.close();
        }
        if (dynalite != null) {
            dynalite.close();
        }
    }

    @BeforeEach
    void freshTable() {
        table = DynamoTestTables.newTable(plainClient);
    }

    /** Throws ProvisionedThroughputExceededException on the first {@code failures} attempts of one operation. */
    static final class Throttle implements ExecutionInterceptor {
        private final Class<? extends SdkRequest> operation;
        private final int failures;
        final AtomicInteger attempts = new AtomicInteger();

        Throttle(Class<? extends SdkRequest> operation, int failures) {
            this.operation = operation;
            this.failures = failures;
        }

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            // beforeTransmission runs once per attempt, inside the SDK's retry loop
            if (operation.isInstance(context.request()) && attempts.incrementAndGet() <= failures) {
                throw ProvisionedThroughputExceededException.builder()
                        .message("injected throttling")
                        .statusCode(400)
                        .awsErrorDetails(AwsErrorDetails.builder()
                                .errorCode("ProvisionedThroughputExceededException")
                                .errorMessage("injected throttling")
                                .serviceName("DynamoDb")
                                .build())
                        .build();
            }
        }
    }

    /** Lets PutItem reach DynamoDB, then turns the first {@code failures} replies into a 500: lost replies. */
    static final class LosePutReplies implements ExecutionInterceptor {
        private final int failures;
        final AtomicInteger attempts = new AtomicInteger();

        LosePutReplies(int failures) {
            this.failures = failures;
        }

        @Override
        public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
            if (context.request() instanceof PutItemRequest && attempts.incrementAndGet() <= failures) {
                return context.httpResponse().toBuilder().statusCode(500).statusText("Internal Server Error").build();
            }
            return context.httpResponse();
        }
    }

    static SessionSummary inFlight() {
        Instant now = Instant.parse("2026-11-25T10:00:00Z");
        return new SessionSummary(new SessionIds(Clock.systemUTC()).next(), "alice", SessionStatus.IN_FLIGHT, "ALLOW",
                "POST /v1/messages", "claude-sonnet-4-5", 0, List.of(), now, null);
    }

    @Test
    void begin_throwsIOException_afterBoundedRetries_whenEveryPutIsThrottled() {
        // GIVEN a client whose every PutItem is throttled
        Throttle throttle = new Throttle(PutItemRequest.class, Integer.MAX_VALUE);
        try (DynamoDbClient client = DynamoTestTables.clientWith(dynalite.endpoint(), throttle)) {
            DynamoSessionIndex index = new DynamoSessionIndex(client, table, Duration.ofDays(30));

            // WHEN a session begins, THEN the SDK retried (a bounded number of times) and then gave up
            // with an IOException that says why, not a raw SdkException
            assertThatThrownBy(() -> index.begin(inFlight())).isInstanceOf(IOException.class)
                    .hasMessageContaining("PutItem throttled").hasMessageContaining("ProvisionedThroughputExceeded");
            assertThat(throttle.attempts.get()).isGreaterThan(1).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void begin_succeeds_whenOnlyTheFirstTwoPutsAreThrottled() throws IOException {
        // GIVEN a client whose first two PutItem attempts are throttled
        Throttle throttle = new Throttle(PutItemRequest.class, 2);
        try (DynamoDbClient client = DynamoTestTables.clientWith(dynalite.endpoint(), throttle)) {
            DynamoSessionIndex index = new DynamoSessionIndex(client, table, Duration.ofDays(30));
            SessionSummary s = inFlight();

            // WHEN a session begins
            long t0 = System.nanoTime();
            index.begin(s);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            // THEN the third attempt wrote it, after backing off
            assertThat(throttle.attempts.get()).isEqualTo(3);
            assertThat(index.get(s.id())).contains(s);
            assertThat(took).isLessThan(Duration.ofSeconds(20));
        }
    }

    @Test
    void begin_succeeds_whenARetryFindsItsOwnEarlierWrite() throws IOException {
        // GIVEN a client that loses the reply to the first PutItem, which did land
        LosePutReplies lose = new LosePutReplies(1);
        try (DynamoDbClient client = DynamoTestTables.clientWith(dynalite.endpoint(), lose)) {
            DynamoSessionIndex index = new DynamoSessionIndex(client, table, Duration.ofDays(30));
            SessionSummary s = inFlight();

            // WHEN a session begins: the retry's conditional put collides with the first attempt's item
            index.begin(s);

            // THEN that is recognised as its own write, not reported as a duplicate id
            assertThat(lose.attempts.get()).isEqualTo(2);
            assertThat(index.get(s.id())).contains(s);
        }
    }

    @Test
    void update_throwsIOException_namingTheStatus_whenDynamoKeepsAnsweringWith5xx() {
        // GIVEN a client to which DynamoDB answers every PutItem with HTTP 500
        LosePutReplies unavailable = new LosePutReplies(Integer.MAX_VALUE);
        try (DynamoDbClient client = DynamoTestTables.clientWith(dynalite.endpoint(), unavailable)) {
            DynamoSessionIndex index = new DynamoSessionIndex(client, table, Duration.ofDays(30));

            // WHEN the final entry is written, THEN the retries end in an IOException, not an SdkException
            assertThatThrownBy(() -> index.update(inFlight())).isInstanceOf(IOException.class)
                    .hasMessageContaining("PutItem unavailable (HTTP 500");
            assertThat(unavailable.attempts.get()).isGreaterThan(1).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void findByHash_failsClosed_withUncheckedIOException_whenReadsStayThrottled() {
        // GIVEN a key store whose every GetItem is throttled
        Throttle throttle = new Throttle(GetItemRequest.class, Integer.MAX_VALUE);
        try (DynamoDbClient client = DynamoTestTables.clientWith(dynalite.endpoint(), throttle)) {
            DynamoApiKeyStore keys = new DynamoApiKeyStore(client, table);

            // WHEN a key is looked up, THEN it is neither found nor reported absent: the lookup fails
            assertThatThrownBy(() -> keys.findByHash(ApiKeys.hash(ApiKeys.newKey())))
                    .isInstanceOf(UncheckedIOException.class).hasCauseInstanceOf(IOException.class);
            assertThat(throttle.attempts.get()).isGreaterThan(1);
        }
    }
}
