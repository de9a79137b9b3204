package dev.policygate.aws.dynamodb;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** Test tables in dynalite, and clients with failure injection. */
final class DynamoTestTables {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private DynamoTestTables() {
    }

    /** A fresh, empty Policygate table: tests never see each other's items. */
    static String newTable(DynamoDbClient client) {
        String name = "policygate-test-" + COUNTER.incrementAndGet();
        PolicygateTable.create(client, name);
        return name;
    }

    /**
     * A client with the settings of {@code AwsClients.dynamo} (standard retries, same timeouts,
     * URLConnection HTTP client) plus {@code interceptor}, which AwsClients does not take.
     */
    static DynamoDbClient clientWith(URI endpoint, ExecutionInterceptor interceptor) {
        return DynamoDbClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(endpoint)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create("emulator", "emulator")))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(10))
                        .build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(RetryMode.STANDARD)
                        .apiCallTimeout(Duration.ofSeconds(20))
                        .addExecutionInterceptor(interceptor)
                        .build())
                .build();
    }
}
