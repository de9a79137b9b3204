package dev.policygate.aws.dynamodb;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.dynamodb.model.RequestLimitExceededException;
import software.amazon.awssdk.services.dynamodb.model.ThrottlingException;

import java.io.IOException;
import java.util.function.Supplier;

/**
 * Runs one DynamoDB call and turns what the SDK gives up on into an {@link IOException}, so that
 * the gateway's configured failure mode applies instead of a bare SDK exception.
 *
 * <p>Retrying is the SDK's job: the clients use the standard retry strategy (backoff with jitter,
 * throttling included). Only the outcome after the last attempt arrives here. The messages name
 * the operation, the error code, the attempts and the request id; they go to logs, never to
 * callers of the gateway.
 */
final class DynamoCalls {
    private DynamoCalls() {
    }

    /**
     * Runs {@code call}. A {@link ConditionalCheckFailedException} passes through for the caller
     * to interpret; every other SDK failure becomes an {@link IOException}.
     */
    static <T> T call(String operation, Supplier<T> call) throws IOException {
        try {
            return call.get();
        } catch (ConditionalCheckFailedException e) {
            throw e;
        } catch (ProvisionedThroughputExceededException | RequestLimitExceededException | ThrottlingException e) {
            throw new IOException("DynamoDB " + operation + " throttled (" + code(e) + ")" + attempts(e)
                    + requestId(e), e);
        } catch (AwsServiceException e) {
            String kind = e.statusCode() >= 500 ? "unavailable" : "rejected";
            throw new IOException("DynamoDB " + operation + " " + kind + " (HTTP " + e.statusCode() + ", " + code(e)
                    + ")" + attempts(e) + requestId(e), e);
        } catch (SdkClientException e) {
            // connection failures and call timeouts; the SDK message carries no secrets
            throw new IOException("DynamoDB " + operation + " could not be completed: " + e.getMessage(), e);
        } catch (SdkException e) {
            throw new IOException("DynamoDB " + operation + " failed: " + e.getClass().getSimpleName(), e);
        }
    }

    private static String code(AwsServiceException e) {
        return e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null
                ? e.getClass().getSimpleName() : e.awsErrorDetails().errorCode();
    }

    private static String attempts(SdkException e) {
        return e.numAttempts() == null ? "" : " after " + e.numAttempts() + " attempt(s)";
    }

    private static String requestId(AwsServiceException e) {
        return e.requestId() == null ? "" : ", request id " + e.requestId();
    }
}
