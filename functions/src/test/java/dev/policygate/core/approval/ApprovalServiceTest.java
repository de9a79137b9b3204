package dev.policygate.core.approval;

import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.PolicyEngine;
import dev.policygate.testing.Fixtures;
import dev.policygate.testing.TestApprovals;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApprovalServiceTest {
    private static final PolicyEngine POLICIES = CedarPolicyEngine.load(Fixtures.root().resolve("cedar-policies"));

    /** A clock the test moves by hand, so that expiry is tested without sleeping. */
    static final class MutableClock extends Clock {
        volatile Instant now = Instant.parse("2026-11-25T10:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final MutableClock clock = new MutableClock();
    final ApprovalStore store = TestApprovals.memoryStore();
    final List<ApprovalNotice> sent = new ArrayList<>();
    final List<String> events = new ArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    final ApproverDirectory directory = TestApprovals.directory(Map.of(
            "approvers", Set.of("alice@example.com", "dev@example.com"), "security", Set.of("sam@example.com")));
    ApprovalService service;

    @BeforeEach
    void setUp() {
        service = new ApprovalService(store, sent::add, directory, new ApprovalLinks(new byte[32]), POLICIES, clock,
                Duration.ofMinutes(30), "http://127.0.0.1:9", scheduler);
        service.setListener(new ApprovalListener() {
            @Override
            public void onApproved(ApprovalRecord r) {
                events.add("approved:" + r.decidedBy());
            }

            @Override
            public void onDenied(ApprovalRecord r) {
                events.add("denied:" + r.decidedBy());
            }

            @Override
            public void onExpired(ApprovalRecord r) {
                events.add("expired");
            }
        });
    }

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
    }

    private ApprovalRecord open(Set<String> groups) throws Exception {
        return service.open(new ApprovalService.Hold("01KSESSION00000000000000000", "dev", "dev@example.com",
                "claude-sonnet-4-5", List.of("needs approval"), groups, "excerpt with [EMAIL]"));
    }

    private static Map<String, String> query(String link) {
        Map<String, String> q = new HashMap<>();
        for (String p : URI.create(link).getRawQuery().split("&")) {
            String[] kv = p.split("=", 2);
            q.put(kv[0], URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
        return q;
    }

    private Map<String, String> formFor(ApprovalNotice n, String decision) {
        Map<String, String> f = new HashMap<>(query(n.link()));
        f.put("csrf", new ApprovalLinks(new byte[32]).csrfToken(n.approvalId(), f.get("approver"),
                Long.parseLong(f.get("exp"))));
        f.put("decision", decision);
        return f;
    }

    private ApprovalNotice noticeFor(String email) {
        return sent.stream().filter(n -> n.approverEmail().equals(email)).findFirst().orElseThrow();
    }

    @Test
    void open_notifiesEachApproverWithAnOwnLink_butNeverTheRequester() throws Exception {
        ApprovalRecord r = open(Set.of("approvers"));
        assertThat(sent).extracting(ApprovalNotice::approverEmail).containsExactly("alice@example.com");
        assertThat(r.approvalId()).hasSize(22);
        assertThat(sent.get(0).link()).contains("/approvals/" + r.approvalId()).contains("sig=");
        assertThat(sent.get(0).maskedExcerpt()).isEqualTo("excerpt with [EMAIL]");
    }

    @Test
    void open_refuses_whenAGroupHasNoApproverButTheRequester() {
        assertThatThrownBy(() -> open(Set.of("nobody-here"))).isInstanceOf(ApprovalService.NoApproversException.class);
    }

    @Test
    void view_showsTheConfirmationPage_andChangesNothing() throws Exception {
        ApprovalRecord r = open(Set.of("approvers"));
        ApprovalPage page = service.view(r.approvalId(), query(noticeFor("alice@example.com").link()));
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.html()).contains("Approve").contains("Deny").contains("name=\"csrf\"");
        assertThat(store.get(r.approvalId()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
        assertThat(events).isEmpty();
    }

    @Test
    void decide_approvesOnce_thenReportsWhoDecided() throws Exception {
        ApprovalRecord r = open(Set.of("approvers"));
        ApprovalNotice n = noticeFor("alice@example.com");
        assertThat(service.decide(r.approvalId(), formFor(n, "approve")).outcome()).isEqualTo("approved");
        ApprovalPage again = service.decide(r.approvalId(), formFor(n, "deny"));
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.html()).contains("alice@example.com");
        assertThat(events).containsExactly("approved:alice@example.com");
    }

    @Test
    void decide_racingClicks_takeEffectExactlyOnce() throws Exception {
        ApprovalRecord r = open(Set.of("approvers"));
        ApprovalNotice n = noticeFor("alice@example.com");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<ApprovalPage>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String d = i % 2 == 0 ? "approve" : "deny";
            results.add(pool.submit(() -> {
                go.await();
                return service.decide(r.approvalId(), formFor(n, d));
            }));
        }
        go.countDown();
        int applied = 0;
        for (Future<ApprovalPage> f : results) {
            String o = f.get(10, TimeUnit.SECONDS).outcome();
            if (o.equals("approved") || o.equals("denied")) {
                applied++;
            }
        }
        pool.shutdownNow();
        assertThat(applied).isEqualTo(1);
        assertThat(events).hasSize(1);
    }

    @Test
    void decide_refusesTamperedLinks_unknownIds_andMissingCsrf_withOneGenericPage() throws Exception {
        ApprovalRecord r = open(Set.of("approvers"));
        Map<String, String> good = formFor(noticeFor("alice@example.com"), "approve");

        Map<String, String> otherApprover = new HashMap<>(good);
        otherApprover.put("approver", "mallory@example.com");
        Map<String, String> laterExpiry = new HashMap<>(good);
        laterExpiry.put("exp", Long.toString(Long.parseLong(good.get("exp")) + 3600));
        Map<String, String> noCsrf = new HashMap<>(good);
        noCsrf.remove("csrf");

        for (Map<String, String> bad : List.of(otherApprover, laterExpiry, noCsrf)) {
            ApprovalPage p = service.decide(r.approvalId(), bad);
            assertThat(p.status()).isEqualTo(403);
            assertThat(p.html()).contains(ApprovalService.REFUSAL);
        }
        ApprovalPage unknown = service.decide("AAAAAAAAAAAAAAAAAAAAAA", good);
        assertThat(unknown.status()).isEqualTo(403);
        assertThat(unknown.html()).isEqualTo(service.decide(r.approvalId(), otherApprover).html());
        assertThat(store.get(r.approvalId()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
    }

    @Test
    void decide_afterExpiry_changesNothing_andSaysSo() throws Exception {
        ApprovalRecord r = open(Set.of("approvers"));
        clock.now = clock.now.plus(Duration.ofMinutes(31));
        ApprovalPage p = service.decide(r.approvalId(), formFor(noticeFor("alice@example.com"), "approve"));
        assertThat(p.status()).isEqualTo(410);
        assertThat(events).isEmpty();
        service.expire(r.approvalId());
        assertThat(events).containsExactly("expired");
        assertThat(store.get(r.approvalId()).orElseThrow().state()).isEqualTo(ApprovalState.EXPIRED);
    }

    @Test
    void decide_needsEveryGroup_whenSeveralApprovableForbidsMatched() throws Exception {
        ApprovalRecord r = open(Set.of("approvers", "security"));
        assertThat(service.decide(r.approvalId(), formFor(noticeFor("alice@example.com"), "approve")).outcome())
                .isEqualTo("partially_approved");
        assertThat(events).isEmpty();
        assertThat(service.decide(r.approvalId(), formFor(noticeFor("sam@example.com"), "approve")).outcome())
                .isEqualTo("approved");
        assertThat(events).containsExactly("approved:sam@example.com");
    }

    @Test
    void decide_deny_endsTheApproval() throws Exception {
        ApprovalRecord r = open(Set.of("approvers"));
        assertThat(service.decide(r.approvalId(), formFor(noticeFor("alice@example.com"), "deny")).outcome())
                .isEqualTo("denied");
        assertThat(events).containsExactly("denied:alice@example.com");
    }
}
