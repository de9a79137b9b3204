package dev.policygate.local;

import dev.policygate.aws.AwsClients;
import dev.policygate.aws.dynamodb.DynamoApiKeyStore;
import dev.policygate.aws.dynamodb.DynamoApproverDirectory;
import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.testing.Emulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code policygate approvers ...} and {@code policygate keys ...}, locally and against the table (dynalite). */
class ApproversAndKeysCliTest {
    private static Emulator dynalite;
    private static DynamoDbClient dynamo;

    @BeforeAll
    static void start() throws IOException {
        dynalite = Emulator.dynalite();
        dynamo = AwsClients.dynamo(AwsClients.Target.emulator(dynalite.endpoint()));
        PolicygateTable.create(dynamo, "cli");
    }

    @AfterAll
    static void stop() {
        dynamo.close();
        dynalite.close();
    }

    @Test
    void approvers_addListRemove_inTheTable() {
        String[] aws = {"--table", "cli", "--dynamodb-endpoint", dynalite.endpoint().toString()};
        assertThat(run(concat(new String[]{"approvers", "add", "--group", "security", "--email", "Sam@Example.com"}, aws)).code)
                .isZero();
        assertThat(run(concat(new String[]{"approvers", "add", "--group", "security", "--email", "kim@example.com"}, aws)).code)
                .isZero();
        Result list = run(concat(new String[]{"approvers", "list", "--group", "security"}, aws));
        assertThat(list.out).isEqualTo("kim@example.com\nsam@example.com\n");
        assertThat(new DynamoApproverDirectory(dynamo, "cli").groupsOf("sam@example.com")).containsExactly("security");
        assertThat(run(concat(new String[]{"approvers", "remove", "--group", "security", "--email", "kim@example.com"}, aws))
                .code).isZero();
        assertThat(new DynamoApproverDirectory(dynamo, "cli").approvers("security")).containsExactly("sam@example.com");
        assertThat(new DynamoApproverDirectory(dynamo, "cli").groupsOf("kim@example.com")).isEmpty();
        // bad input is refused with a message, nothing written
        Result bad = run(concat(new String[]{"approvers", "add", "--group", "a b", "--email", "x@example.com"}, aws));
        assertThat(bad.code).isNotZero();
        assertThat(bad.err).contains("group name");
    }

    @Test
    void approvers_addListRemove_locally(@TempDir Path dir) {
        String[] local = {"--data-dir", dir.toString()};
        assertThat(run(concat(new String[]{"approvers", "add", "--group", "approvers", "--email", "ann@example.com"}, local))
                .code).isZero();
        assertThat(run(concat(new String[]{"approvers", "list", "--group", "approvers"}, local)).out)
                .isEqualTo("ann@example.com\n");
        assertThat(new FileApproverDirectory(dir).groupsOf("ann@example.com")).containsExactly("approvers");
        Result bad = run(concat(new String[]{"approvers", "add", "--group", "approvers", "--email", "not-an-email"}, local));
        assertThat(bad.code).isNotZero();
        assertThat(bad.err).contains("not an email address");
    }

    @Test
    void keys_createListRevoke_inTheTable_keyPrintedOnceAndStoredHashed() {
        String[] aws = {"--table", "cli", "--dynamodb-endpoint", dynalite.endpoint().toString()};
        Result created = run(concat(new String[]{"keys", "create", "--principal", "ci-bot", "--group", "developers",
                "--email", "ci@example.com"}, aws));
        assertThat(created.code).isZero();
        String key = created.out.trim();
        assertThat(key).startsWith("pgk_");
        DynamoApiKeyStore store = new DynamoApiKeyStore(dynamo, "cli");
        assertThat(store.list()).anySatisfy(r -> assertThat(r.principal()).isEqualTo("ci-bot"));
        assertThat(store.list().toString()).doesNotContain(key);
        String keyId = store.list().stream().filter(r -> r.principal().equals("ci-bot")).findFirst().orElseThrow().keyId();
        Result listed = run(concat(new String[]{"keys", "list"}, aws));
        assertThat(listed.out).contains(keyId).contains("ci-bot").doesNotContain(key);
        assertThat(run(concat(new String[]{"keys", "revoke", "--key-id", keyId}, aws)).code).isZero();
        assertThat(run(concat(new String[]{"keys", "list"}, aws)).out).contains("REVOKED");
    }

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new Main()).execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String[] concat(String[] a, String[] b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }
}
