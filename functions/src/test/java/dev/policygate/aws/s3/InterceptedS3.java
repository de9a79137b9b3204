package dev.policygate.aws.s3;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;

import java.net.URI;
import java.time.Duration;

/**
 * An s3rver client configured as {@code AwsClients.s3(Target.emulator(..))} builds it (path-style,
 * no aws-chunked framing), plus execution interceptors: to observe the requests sent, or to
 * inject failures. It signs with s3rver's one built-in key pair (S3RVER/S3RVER): s3rver refuses
 * any other access key id with InvalidAccessKeyId, including the dummy one of {@code AwsClients}.
 */
final class InterceptedS3 {
    private static final String S3RVER_KEY = "S3RVER";

    private InterceptedS3() {
    }

    static S3Client client(URI endpoint, ExecutionInterceptor... interceptors) {
        return builder(endpoint, interceptors).build();
    }

    static S3ClientBuilder builder(URI endpoint, ExecutionInterceptor... interceptors) {
        ClientOverrideConfiguration.Builder overrides = ClientOverrideConfiguration.builder()
                .retryStrategy(RetryMode.STANDARD)
                .apiCallTimeout(Duration.ofSeconds(20));
        for (ExecutionInterceptor i : interceptors) {
            overrides.addExecutionInterceptor(i);
        }
        return S3Client.builder()
                .region(Region.US_EAST_1)
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(10)).build())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3RVER_KEY, S3RVER_KEY)))
                .overrideConfiguration(overrides.build())
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
    }
}
