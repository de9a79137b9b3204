package dev.policygate.aws.dynamodb;

import dev.policygate.aws.AwsClients;
import dev.policygate.aws.testing.Emulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.io.IOException;

/** One dynalite per test class, on 127.0.0.1, and a client for it; stopped after the class. */
abstract class DynaliteTest {
    static Emulator dynalite;
    static DynamoDbClient client;

    @BeforeAll
    static void startDynalite() throws IOException {
        dynalite = Emulator.dynalite();
        client = AwsClients.dynamo(AwsClients.Target.emulator(dynalite.endpoint()));
    }

    @AfterAll
    static void stopDynalite() {
        if (client != null) {
            client.close();
        }
        if (dynalite != null) {
            dynalite.close();
        }
    }
}
