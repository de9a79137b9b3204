package dev.policygate.local;

import dev.policygate.aws.AwsClients;
import dev.policygate.aws.dynamodb.DynamoSessionIndex;
import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.s3.S3SessionRecorder;
import dev.policygate.aws.testing.Emulator;
import dev.policygate.core.session.SessionStore;
import dev.policygate.core.session.SplitSessionStore;
import dev.policygate.testing.ReplayCorpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ForkJoinPool;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code policy replay} and {@code sessions list} from the CLI, against the local data dir and
 * against DynamoDB + S3 (dynalite and s3rver on 127.0.0.1).
 */
class ReplayCliTest {
    @TempDir
    Path tmp;

    /** Runs a CLI command and returns what it printed. */
    private static String run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            int code = new CommandLine(new Main()).execute(args);
            assertThat(code).as("exit code of " + String.join(" ", args)).isZero();
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void assertTwoDeleteSessionsFlip(String output) {
        assertThat(output).contains("2 of 5 sessions would be decided differently");
        assertThat(output.lines().filter(l -> l.contains("ALLOW -> DENY") && l.contains("[no-delete]")
                && l.contains("ann")).count()).isEqualTo(2);
    }

    @Test
    void replay_onTheLocalStore_listsTheSessionsAStricterPolicyWouldDeny() throws Exception {
        Path data = tmp.resolve("data");
        ReplayCorpus.record(FileSessionStore.open(data));
        Path candidate = ReplayCorpus.candidatePolicies(tmp, ReplayCorpus.NO_DELETE);

        assertTwoDeleteSessionsFlip(run("policy", "replay", "--policies", candidate.toString(), "--data-dir",
                data.toString()));
        assertThat(run("sessions", "list", "--data-dir", data.toString(), "--decision", "approval").lines().count())
                .isEqualTo(1);
    }

    @Test
    void replay_onDynamoDbAndS3_givesTheSameAnswer() throws Exception {
        try (Emulator dynalite = Emulator.dynalite(); Emulator s3rver = Emulator.s3rver()) {
            DynamoDbClient dynamo = AwsClients.dynamo(AwsClients.Target.emulator(dynalite.endpoint()));
            S3Client s3 = AwsClients.s3(AwsClients.Target.emulator(s3rver.endpoint()));
            PolicygateTable.create(dynamo, "policygate");
            s3.createBucket(b -> b.bucket("recordings"));
            SessionStore store = new SplitSessionStore(new DynamoSessionIndex(dynamo, "policygate", Duration.ofDays(30)),
                    new S3SessionRecorder(s3, "recordings", null), ForkJoinPool.commonPool());
            ReplayCorpus.record(store);
            Path candidate = ReplayCorpus.candidatePolicies(tmp, ReplayCorpus.NO_DELETE);

            String out = run("policy", "replay", "--policies", candidate.toString(), "--table", "policygate",
                    "--bucket", "recordings", "--dynamodb-endpoint", dynalite.endpoint().toString(),
                    "--s3-endpoint", s3rver.endpoint().toString());

            assertTwoDeleteSessionsFlip(out);
        }
    }
}
