package dev.policygate.core.approval;

import dev.policygate.core.auth.Principal;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SealerAndHeldRequestTest {
    private static final byte[] SECRET = "a-link-signing-secret-of-32-bytes-or-more".getBytes(StandardCharsets.UTF_8);

    static HeldRequest held() {
        return new HeldRequest("01KSESSION00000000000000AB",
                new Principal("dev", Set.of("developers"), "dev@example.com", "policygate:key", "k_1",
                        Principal.Method.API_KEY),
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"mail dave@example.com\"}]}"
                        .getBytes(StandardCharsets.UTF_8),
                Map.of("anthropic-version", "2023-06-01"), "203.0.113.9", "m", List.of("needs approval"),
                Set.of("approvers"), List.of("large-budget-needs-approval"), "mail [EMAIL]",
                Instant.parse("2026-11-25T10:00:00Z"));
    }

    @Test
    void heldRequest_roundTripsThroughJson() throws IOException {
        HeldRequest h = held();
        HeldRequest back = HeldRequest.fromJson(h.toJson());
        assertThat(back.principal()).isEqualTo(h.principal());
        assertThat(back.body()).isEqualTo(h.body());
        assertThat(back).usingRecursiveComparison().ignoringFields("body").isEqualTo(h);
        assertThatThrownBy(() -> HeldRequest.fromJson("{\"v\":2}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> HeldRequest.fromJson("{\"v\":1}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class);
    }

    @Test
    void sealed_hidesThePlaintext_andOpensOnlyUnderItsNameWithTheSecret() throws IOException {
        Sealer sealer = new Sealer(SECRET);
        byte[] plain = held().toJson();
        byte[] sealed = sealer.seal("held/A/request", plain);
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("dave@example.com")
                .doesNotContain("dev@example.com");
        assertThat(sealer.open("held/A/request", sealed)).isEqualTo(plain);
        // two seals of the same bytes differ (random nonce)
        assertThat(sealer.seal("held/A/request", plain)).isNotEqualTo(sealed);
        // moved to another name, changed, or opened with another secret: refused
        assertThatThrownBy(() -> sealer.open("held/B/request", sealed)).isInstanceOf(IOException.class);
        byte[] changed = sealed.clone();
        changed[changed.length - 1] ^= 1;
        assertThatThrownBy(() -> sealer.open("held/A/request", changed)).isInstanceOf(IOException.class);
        Sealer other = new Sealer("another-secret-also-32-bytes-long-at-least".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> other.open("held/A/request", sealed)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> sealer.open("held/A/request", new byte[3])).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> new Sealer(new byte[31])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void lazyKeys_areReadOnFirstUseOnly() throws IOException {
        AtomicInteger reads = new AtomicInteger();
        Sealer sealer = new Sealer(() -> {
            reads.incrementAndGet();
            return SECRET.clone();
        });
        ApprovalLinks links = new ApprovalLinks(() -> {
            reads.incrementAndGet();
            return SECRET.clone();
        });
        assertThat(reads).hasValue(0);
        byte[] sealed = sealer.seal("n", new byte[]{1, 2, 3});
        assertThat(new Sealer(SECRET).open("n", sealed)).containsExactly(1, 2, 3);
        String sig = links.sign("AAAAAAAAAAAAAAAAAAAAAA", "a@example.com", 100);
        assertThat(new ApprovalLinks(SECRET).verify("AAAAAAAAAAAAAAAAAAAAAA", "a@example.com", 100, sig)).isTrue();
        sealer.seal("n", new byte[]{4});
        links.sign("AAAAAAAAAAAAAAAAAAAAAA", "a@example.com", 100);
        assertThat(reads).hasValue(2);
    }

    @Test
    void inMemoryStore_claimsTheForwardOnce_andIsBounded() throws IOException {
        InMemoryHeldRequestStore store = new InMemoryHeldRequestStore(1, 2);
        HeldRequest h = held();
        store.put(h);
        assertThat(store.claimForward(h.sessionId())).isTrue();
        assertThat(store.claimForward(h.sessionId())).isFalse();
        assertThatThrownBy(() -> store.put(held())).isInstanceOf(InMemoryHeldRequestStore.HeldRequestsFullException.class);
        store.delete(h.sessionId());
        assertThat(store.get(h.sessionId())).isEmpty();
        assertThat(store.claimForward(h.sessionId())).isFalse();
        store.putReply("a", new byte[]{1});
        store.putReply("b", new byte[]{2});
        store.putReply("c", new byte[]{3});
        assertThat(store.reply("a")).isEmpty();
        assertThat(store.reply("c")).contains(new byte[]{3});
    }
}
