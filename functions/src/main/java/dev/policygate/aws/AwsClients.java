package dev.policygate.aws;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sesv2.SesV2Client;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.s3.S3Configuration;

import java.net.URI;
import java.time.Duration;

/**
 * Builds each AWS client once: explicit region, the URLConnection HTTP client (the others are
 * excluded from the jar), standard retries with backoff and jitter, bounded timeouts. An
 * endpoint override points a client at an emulator (tests) and then uses dummy credentials.
 */
public final class AwsClients {
    private AwsClients() {
    }

    /** Where a client connects: a region, and optionally an emulator endpoint. */
    public record Target(Region region, URI endpointOverride) {
        public static Target aws(String region) {
            return new Target(Region.of(region), null);
        }

        public static Target emulator(URI endpoint) {
            return new Target(Region.US_EAST_1, endpoint);
        }
    }

    private static SdkHttpClient http() {
        return UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(2))
                .socketTimeout(Duration.ofSeconds(10))
                .build();
    }

    private static ClientOverrideConfiguration overrides() {
        return ClientOverrideConfiguration.builder()
                .retryStrategy(RetryMode.STANDARD)
                .apiCallTimeout(Duration.ofSeconds(20))
                .build();
    }

    private static AwsCredentialsProvider credentials(Target t) {
        return t.endpointOverride() == null ? DefaultCredentialsProvider.builder().build()
                // s3rver accepts only its own fixed key pair; dynalite accepts any
                : StaticCredentialsProvider.create(AwsBasicCredentials.create("S3RVER", "S3RVER"));
    }

    public static DynamoDbClient dynamo(Target t) {
        var b = DynamoDbClient.builder().region(t.region()).httpClient(http()).credentialsProvider(credentials(t))
                .overrideConfiguration(overrides());
        if (t.endpointOverride() != null) {
            b.endpointOverride(t.endpointOverride());
        }
        return b.build();
    }

    public static SfnClient sfn(Target t) {
        var b = SfnClient.builder().region(t.region()).httpClient(http()).credentialsProvider(credentials(t))
                .overrideConfiguration(overrides());
        if (t.endpointOverride() != null) {
            b.endpointOverride(t.endpointOverride());
        }
        return b.build();
    }

    public static SesV2Client ses(Target t) {
        var b = SesV2Client.builder().region(t.region()).httpClient(http()).credentialsProvider(credentials(t))
                .overrideConfiguration(overrides());
        if (t.endpointOverride() != null) {
            b.endpointOverride(t.endpointOverride());
        }
        return b.build();
    }

    public static S3Client s3(Target t) {
        var b = S3Client.builder().region(t.region()).httpClient(http()).credentialsProvider(credentials(t))
                .overrideConfiguration(overrides());
        if (t.endpointOverride() != null) {
            // emulators: path-style addressing, and no aws-chunked framing (s3rver would store it)
            b.endpointOverride(t.endpointOverride()).forcePathStyle(true)
                    .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
        }
        return b.build();
    }
}
