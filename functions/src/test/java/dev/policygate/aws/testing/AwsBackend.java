package dev.policygate.aws.testing;

import dev.policygate.aws.AwsClients;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.Optional;

/**
 * Where an end-to-end suite finds DynamoDB and S3: dynalite and s3rver by default, or LocalStack
 * when the {@code localstack} Maven profile sets {@value #PROPERTY}{@code =localstack}. Only the
 * endpoints differ: both backends are reached with the clients {@link AwsClients} builds for an
 * endpoint override (us-east-1, path-style S3, no aws-chunked framing, s3rver's key pair, which
 * LocalStack accepts like any other). What a backend starts listens on 127.0.0.1; close it to
 * stop it.
 */
public interface AwsBackend extends AutoCloseable {
    /** The system property that selects the backend: {@code emulator} (default) or {@code localstack}. */
    String PROPERTY = "policygate.aws.backend";

    /**
     * Starts the backend {@value #PROPERTY} names. A LocalStack backend on a machine without a
     * Docker engine throws JUnit's {@code TestAbortedException} instead; suites should rather be
     * annotated {@link AwsBackendAvailable}, which reports each of their tests as skipped.
     */
    static AwsBackend start() throws IOException {
        return switch (selected()) {
            case "emulator" -> EmulatorBackend.start();
            default -> (AwsBackend) callLocalStack("start");
        };
    }

    /** Why the selected backend cannot start here (LocalStack without Docker), or empty. */
    @SuppressWarnings("unchecked")
    static Optional<String> unavailableReason() throws IOException {
        return switch (selected()) {
            case "emulator" -> Optional.empty();
            default -> (Optional<String>) callLocalStack("unavailableReason");
        };
    }

    URI dynamoEndpoint();

    URI s3Endpoint();

    /** A new DynamoDB client on this backend; the caller closes it. */
    default DynamoDbClient newDynamoClient() {
        return AwsClients.dynamo(AwsClients.Target.emulator(dynamoEndpoint()));
    }

    /** A new S3 client on this backend; the caller closes it. */
    default S3Client newS3Client() {
        return AwsClients.s3(AwsClients.Target.emulator(s3Endpoint()));
    }

    @Override
    void close();

    private static String selected() {
        String name = System.getProperty(PROPERTY, "emulator");
        if (!name.equals("emulator") && !name.equals("localstack")) {
            throw new IllegalArgumentException(PROPERTY + "=" + name + ": expected emulator or localstack");
        }
        return name;
    }

    /**
     * Calls a static method of {@code LocalStackBackend}, loaded by name: it compiles only under
     * the {@code localstack} profile, which alone brings Testcontainers, so the default build
     * must not reference it.
     */
    private static Object callLocalStack(String method) throws IOException {
        Method m;
        try {
            m = Class.forName("dev.policygate.aws.testing.LocalStackBackend").getDeclaredMethod(method);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IllegalStateException(PROPERTY + "=localstack needs the localstack Maven profile "
                    + "(mvn -Plocalstack), which compiles LocalStackBackend and brings Testcontainers", e);
        }
        try {
            return m.invoke(null);
        } catch (InvocationTargetException e) {
            // rethrown as is, so that an aborted assumption still reads as a skip
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("LocalStackBackend." + method + "() failed", cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("LocalStackBackend." + method + "() is not accessible", e);
        }
    }
}
