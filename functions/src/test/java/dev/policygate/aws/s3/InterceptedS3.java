package dev.policygate.aws.s3;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

import java.net.URI;
import java.time.Duration;

/**
 * An emulator S3 client configured as {@code AwsClients.s3(Target.emulator(..))} builds it, plus
 * execution interceptors: to observe the requests sent, or to inject failures.
 */
final class InterceptedS3 {
    private InterceptedS3() {
    }

    static S3Client client(URI endpoint, ExecutionInterceptor... interceptors) {
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
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("emulator", "emulator")))
                .overrideConfiguration(overrides.build())
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
                .build();
    }
}
