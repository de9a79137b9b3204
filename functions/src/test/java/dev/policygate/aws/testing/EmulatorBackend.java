package dev.policygate.aws.testing;

import java.io.IOException;
import java.net.URI;

/** The default {@link AwsBackend}: dynalite for DynamoDB and s3rver for S3, Node processes on 127.0.0.1. */
final class EmulatorBackend implements AwsBackend {
    private final Emulator dynalite;
    private final Emulator s3rver;

    private EmulatorBackend(Emulator dynalite, Emulator s3rver) {
        this.dynalite = dynalite;
        this.s3rver = s3rver;
    }

    static EmulatorBackend start() throws IOException {
        Emulator dynalite = Emulator.dynalite();
        try {
            return new EmulatorBackend(dynalite, Emulator.s3rver());
        } catch (IOException | RuntimeException e) {
            dynalite.close();
            throw e;
        }
    }

    @Override
    public URI dynamoEndpoint() {
        return dynalite.endpoint();
    }

    @Override
    public URI s3Endpoint() {
        return s3rver.endpoint();
    }

    @Override
    public void close() {
        try {
            s3rver.close();
        } finally {
            dynalite.close();
        }
    }
}
