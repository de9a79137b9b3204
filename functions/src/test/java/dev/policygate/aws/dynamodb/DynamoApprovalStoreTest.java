package dev.policygate.aws.dynamodb;

import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DynamoApprovalStoreTest extends DynaliteTest {
    static DynamoApprovalStore store;

    @BeforeAll
    static void createTable() {
        PolicygateTable.create(client, "approvals-test");
        store = new DynamoApprovalStore(client, "approvals-test");
    }

    static ApprovalRecord pending(String id) {
        return pending(id, "01KSESSION" + id.substring(id.length() - 4), null);
    }

    static ApprovalRecord pending(String id, String sessionId, String taskToken) {
        Instant now = Instant.parse("2026-11-25T10:00:00Z");
        return new ApprovalRecord(id, sessionId, "dev", "dev@example.com", "claude-sonnet-4-5",
                List.of("budget"), Set.of("approvers", "security"),
                Map.of("alice@example.com", Set.of("approvers"), "sam@example.com", Set.of("security")), now,
                now.plusSeconds(3600), ApprovalState.PENDING, Map.of(), null, null, "excerpt [EMAIL]", taskToken);
    }

    @Test
    void findBySession_oneApprovalPerSession_withItsTaskToken() {
        ApprovalRecord r = pending("bbbbbbbbbbbbbbbbbbbbb1", "01KSESSIONTOKEN", "token-AAAA");
        store.create(r);
        assertThat(store.findBySession("01KSESSIONTOKEN")).contains(r);
        assertThat(store.findBySession("01KSESSIONTOKEN").orElseThrow().taskToken()).isEqualTo("token-AAAA");
        assertThat(store.findBySession("01KSESSIONNONE")).isEmpty();
        // a second approval for the same session is refused, and the first stays
        assertThatThrownBy(() -> store.create(pending("bbbbbbbbbbbbbbbbbbbbb2", "01KSESSIONTOKEN", null)))
                .isInstanceOf(IllegalStateException.class);
        assertThat(store.findBySession("01KSESSIONTOKEN").orElseThrow().approvalId()).isEqualTo(r.approvalId());
    }

    @Test
    void create_takesOverAPointerLeftWithoutItsRecord() {
        // a crash between the pointer and the record leaves a pointer to nothing
        client.putItem(b -> b.tableName("approvals-test").item(Map.of(
                PolicygateTable.PK, software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(
                        PolicygateTable.APPROVAL_SESSION_PREFIX + "01KSESSIONCRASH"),
                "approval_id", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(
                        "ccccccccccccccccccccc0"))));
        ApprovalRecord r = pending("ccccccccccccccccccccc1", "01KSESSIONCRASH", "t");
        store.create(r);
        assertThat(store.findBySession("01KSESSIONCRASH")).contains(r);
    }

    @Test
    void createAndGet_roundTripEveryField() {
        ApprovalRecord r = pending("aaaaaaaaaaaaaaaaaaaaa1");
        store.create(r);
        assertThat(store.get(r.approvalId())).contains(r);
        assertThat(store.get("aaaaaaaaaaaaaaaaaaaaa0")).isEmpty();
        assertThatThrownBy(() -> store.create(r)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void updateIfPending_appliesOnce_andThenNeverAgain() {
        ApprovalRecord r = pending("aaaaaaaaaaaaaaaaaaaaa2");
        store.create(r);
        Optional<ApprovalRecord> first = store.updateIfPending(r.approvalId(), cur -> new ApprovalRecord(
                cur.approvalId(), cur.sessionId(), cur.requester(), cur.requesterEmail(), cur.model(), cur.reasons(),
                cur.groups(), cur.approvers(), cur.createdAt(), cur.expiresAt(), ApprovalState.DENIED,
                cur.groupDecisions(), "alice@example.com", Instant.parse("2026-11-25T10:05:00Z"), cur.promptExcerpt()));
        assertThat(first).get().extracting(ApprovalRecord::state).isEqualTo(ApprovalState.DENIED);
        assertThat(store.updateIfPending(r.approvalId(), cur -> cur)).isEmpty();
        assertThat(store.get(r.approvalId()).orElseThrow().decidedBy()).isEqualTo("alice@example.com");
    }

    @Test
    void updateIfPending_racingInstances_exactlyOneWins() throws Exception {
        ApprovalRecord r = pending("aaaaaaaaaaaaaaaaaaaaa3");
        store.create(r);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Optional<ApprovalRecord>>> results = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String who = "approver" + i + "@example.com";
            results.add(pool.submit(() -> {
                go.await();
                return store.updateIfPending(r.approvalId(), cur -> new ApprovalRecord(cur.approvalId(),
                        cur.sessionId(), cur.requester(), cur.requesterEmail(), cur.model(), cur.reasons(),
                        cur.groups(), cur.approvers(), cur.createdAt(), cur.expiresAt(), ApprovalState.APPROVED,
                        cur.groupDecisions(), who, Instant.now(), cur.promptExcerpt()));
            }));
        }
        go.countDown();
        int winners = 0;
        for (Future<Optional<ApprovalRecord>> f : results) {
            if (f.get(20, TimeUnit.SECONDS).isPresent()) {
                winners++;
            }
        }
        pool.shutdownNow();
        assertThat(winners).isEqualTo(1);
    }
}
