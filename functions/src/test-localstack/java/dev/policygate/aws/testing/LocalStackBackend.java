package dev.policygate.aws.testing;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

import java.net.URI;
import java.util.Optional;

/**
 * LocalStack in Docker through Testcontainers, with DynamoDB and S3 only, its edge port published
 * on 127.0.0.1. It compiles only under the {@code localstack} Maven profile, and
 * {@link AwsBackend} loads it by name. Without a Docker engine {@link AwsBackendAvailable} skips
 * the suite. It supports a local Docker engine only: the endpoint is the loopback address.
 */
final class LocalStackBackend implements AwsBackend {
    static final String NO_DOCKER = "LocalStack suite skipped: no Docker engine on this machine";
    // a numbered tag: `latest` and later images refuse to start without a LocalStack auth token
    private static final DockerImageName IMAGE = DockerImageName.parse("localstack/localstack:4.14.0");
    private static final int EDGE_PORT = 4566;

    private final LocalStackContainer container;
    private final URI endpoint;

    private LocalStackBackend(LocalStackContainer container) {
        this.container = container;
        this.endpoint = URI.create("http://127.0.0.1:" + container.getMappedPort(EDGE_PORT));
    }

    static Optional<String> unavailableReason() {
        return DockerClientFactory.instance().isDockerAvailable() ? Optional.empty() : Optional.of(NO_DOCKER);
    }

    static AwsBackend start() {
        Assumptions.assumeTrue(unavailableReason().isEmpty(), NO_DOCKER);
        LocalStackContainer container = new LocalStackContainer(IMAGE)
                .withServices("dynamodb", "s3")
                // Testcontainers publishes on every interface; the tests' services stay on loopback
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(
                        new PortBinding(Ports.Binding.bindIp("127.0.0.1"), ExposedPort.tcp(EDGE_PORT))));
        try {
            container.start();
            return new LocalStackBackend(container);
        } catch (RuntimeException e) {
            container.stop();
            throw e;
        }
    }

    @Override
    public URI dynamoEndpoint() {
        return endpoint;
    }

    @Override
    public URI s3Endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        container.stop();
    }
}
