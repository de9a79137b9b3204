package dev.policygate.aws.s3;

import dev.policygate.aws.AwsClients;
import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.testing.Emulator;
import dev.policygate.core.approval.HeldRequest;
import dev.policygate.core.approval.Sealer;
import dev.policygate.core.auth.Principal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Held requests sealed in S3 (s3rver) with the forward claim in DynamoDB (dynalite). */
class S3HeldRequestStoreTest {
    private static final String BUCKET = "held-test";
    private static final byte[] SECRET = "a-link-signing-secret-of-32-bytes-or-more".getBytes(StandardCharsets.UTF_8);
    private static Emulator dynalite;
    private static Emulator s3rver;
    private static DynamoDbClient dynamo;
    private static S3Client s3;
    private static S3HeldRequestStore store;

    @BeforeAll
    static void start() throws IOException {
        dynalite = Emulator.dynalite();
        s3rver = Emulator.s3rver();
        dynamo = AwsClients.dynamo(AwsClients.Target.emulator(dynalite.endpoint()));
        s3 = AwsClients.s3(AwsClients.Target.emulator(s3rver.endpoint()));
        PolicygateTable.create(dynamo, "held");
        s3.createBucket(b -> b.bucket(BUCKET));
        store = new S3HeldRequestStore(s3, BUCKET, null, dynamo, "held", new Sealer(SECRET), Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        dynamo.close();
        s3.close();
        dynalite.close();
        s3rver.close();
    }

    private static HeldRequest held(String sessionId) {
        return new HeldRequest(sessionId, new Principal("dev", Set.of("developers"), "dev@example.com",
                "policygate:key", "k_1", Principal.Method.API_KEY),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"mail dave@example.com\"}]}".getBytes(StandardCharsets.UTF_8),
                Map.of("anthropic-version", "2023-06-01"), "203.0.113.9", "claude-sonnet-4-5", List.of("why"),
                Set.of("approvers"), List.of("p"), "mail [EMAIL]", Instant.parse("2026-11-25T10:00:00Z"));
    }

    @Test
    void putGetDelete_sealedAtRest() throws IOException {
        HeldRequest h = held("01KRA5TS0000000000000000S1");
        store.put(h);
        assertThat(store.get(h.sessionId())).get().extracting(HeldRequest::model).isEqualTo("claude-sonnet-4-5");
        byte[] raw = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("held/" + h.sessionId() + "/request")).asByteArray();
        assertThat(new String(raw, StandardCharsets.ISO_8859_1)).doesNotContain("dave@example.com")
                .doesNotContain("dev@example.com");
        store.putReply(h.sessionId(), "{\"reply\":1}".getBytes(StandardCharsets.UTF_8));
        store.delete(h.sessionId());
        store.delete(h.sessionId());
        assertThat(store.get(h.sessionId())).isEmpty();
        // the owner's reply outlives the request
        assertThat(store.reply(h.sessionId())).get().extracting(b -> new String(b, StandardCharsets.UTF_8))
                .isEqualTo("{\"reply\":1}");
        assertThat(store.reply("01KRA5TS0000000000000000S0")).isEmpty();
    }

    @Test
    void anObjectSwappedInTheBucket_isRefused() throws IOException {
        HeldRequest a = held("01KRA5TS0000000000000000S2");
        store.put(a);
        byte[] sealed = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("held/" + a.sessionId() + "/request")).asByteArray();
        // someone with bucket access copies session A's held request under session B's name
        s3.putObject(b -> b.bucket(BUCKET).key("held/01KRA5TS0000000000000000S3/request"), RequestBody.fromBytes(sealed));
        assertThatThrownBy(() -> store.get("01KRA5TS0000000000000000S3")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> store.get("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void claimForward_racingInvocations_exactlyOneWins() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Callable<Boolean>> claims = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            claims.add(() -> store.claimForward("01KRA5TS0000000000000000S4"));
        }
        int won = 0;
        for (Future<Boolean> f : pool.invokeAll(claims)) {
            won += f.get() ? 1 : 0;
        }
        pool.shutdownNow();
        assertThat(won).isEqualTo(1);
        assertThat(store.claimForward("01KRA5TS0000000000000000S4")).isFalse();
    }
}
