package dev.policygate.local;

import dev.policygate.core.session.SessionIds;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The packed directory of evicted sessions: sorted, disjoint chunks of ids and index-line offsets. */
class EvictedSessionsTest {
    private final SessionIds ids = new SessionIds(Clock.systemUTC());

    private List<String> sortedIds(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(ids.next());
        }
        Collections.sort(out);
        return out;
    }

    private static void add(EvictedSessions d, List<String> batch, long offsetBase) {
        long[] offsets = new long[batch.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = offsetBase + i;
        }
        d.add(batch.toArray(String[]::new), offsets, batch.size());
    }

    /** Every id the cursor walks, from {@code bound} down. */
    private static List<String> walk(EvictedSessions d, String bound) {
        List<String> out = new ArrayList<>();
        for (EvictedSessions.Cursor c = new EvictedSessions.Cursor(d.snapshot(), bound); c.id() != null; c.advance()) {
            out.add(c.id());
        }
        return out;
    }

    @Test
    void add_mergesABatchThatOverlapsEarlierOnes_soThatLookupsAndTheWalkStayInIdOrder() {
        // GIVEN 300 ids, evicted as if the clock had been set back: the even ones first, in batches of 50,
        // then the odd ones, whose range overlaps every earlier batch
        List<String> all = sortedIds(300);
        List<String> even = IntStream.range(0, 300).filter(i -> i % 2 == 0).mapToObj(all::get).toList();
        List<String> odd = IntStream.range(0, 300).filter(i -> i % 2 == 1).mapToObj(all::get).toList();
        EvictedSessions d = new EvictedSessions();
        for (int b = 0; b < even.size(); b += 50) {
            add(d, even.subList(b, Math.min(b + 50, even.size())), 1_000L * b);
        }

        // WHEN the overlapping batch is added
        add(d, odd, 1_000_000);

        // THEN every id is found with its offset, the walk is every id in descending order, and the chunks are disjoint
        assertThat(d.count()).isEqualTo(300);
        for (int i = 0; i < 300; i++) {
            long expected = i % 2 == 0 ? 1_000L * ((i / 2) / 50 * 50) + (i / 2) % 50 : 1_000_000 + i / 2;
            assertThat(d.offsetOf(all.get(i))).as("id %d", i).isEqualTo(expected);
        }
        List<String> descending = new ArrayList<>(all);
        Collections.reverse(descending);
        assertThat(walk(d, null)).isEqualTo(descending);
        assertThat(d.snapshot()).hasSize(1);
        assertThat(d.offsetOf(ids.next())).isEqualTo(-1);
        assertThat(d.offsetOf("short")).isEqualTo(-1);
    }

    @Test
    void cursor_startsStrictlyBelowItsBound_whateverTheBoundIs() {
        // GIVEN 100 ids in four batches
        List<String> all = sortedIds(100);
        EvictedSessions d = new EvictedSessions();
        for (int b = 0; b < 100; b += 25) {
            add(d, all.subList(b, b + 25), b);
        }
        List<String> descending = new ArrayList<>(all);
        Collections.reverse(descending);

        // WHEN walks start at an id, between chunks, at a prefix, above and below everything
        // THEN each begins with the greatest id strictly below the bound
        assertThat(walk(d, all.get(60))).isEqualTo(descending.subList(40, 100));
        assertThat(walk(d, all.get(75))).isEqualTo(descending.subList(25, 100));
        assertThat(walk(d, all.get(0))).isEmpty();
        assertThat(walk(d, "~")).isEqualTo(descending);
        assertThat(walk(d, "0")).isEmpty();
        String prefix = all.get(50).substring(0, 12);
        assertThat(walk(d, prefix)).allSatisfy(id -> assertThat(id.compareTo(prefix)).isNegative())
                .containsAll(all.stream().filter(id -> id.compareTo(prefix) < 0).toList());
    }

    @Test
    void raise_onlyMovesAnOffsetForward_andAnswersWhetherTheIdIsThere() {
        // GIVEN one evicted batch
        List<String> all = sortedIds(10);
        EvictedSessions d = new EvictedSessions();
        add(d, all, 100);

        // WHEN a later line and an earlier one are reported for the same id, and one for an unknown id
        boolean later = d.raise(all.get(3), 5_000);
        boolean earlier = d.raise(all.get(3), 4_000);
        boolean unknown = d.raise(ids.next(), 9_000);

        // THEN the later line wins, and the unknown id is not added
        assertThat(later).isTrue();
        assertThat(earlier).isTrue();
        assertThat(unknown).isFalse();
        assertThat(d.offsetOf(all.get(3))).isEqualTo(5_000);
        assertThat(d.count()).isEqualTo(10);
    }

    @Test
    void bytes_areThirtyFourASessionPlusAFixedCostAChunk() {
        // GIVEN 10,000 evicted sessions in batches of 1,000
        List<String> all = sortedIds(10_000);
        EvictedSessions d = new EvictedSessions();
        for (int b = 0; b < all.size(); b += 1_000) {
            add(d, all.subList(b, b + 1_000), b);
        }

        // WHEN the directory accounts for its heap
        long bytes = d.bytes();

        // THEN it is 26 id bytes and an 8-byte offset each, plus under 100 bytes a chunk
        assertThat(bytes).isBetween(34L * 10_000, 34L * 10_000 + 100 * 10);
    }

    @Test
    void fits_onlyTwentySixCharacterAsciiIds() {
        assertThat(EvictedSessions.fits(ids.next())).isTrue();
        assertThat(EvictedSessions.fits("s1")).isFalse();
        assertThat(EvictedSessions.fits("é".repeat(26))).isFalse();
    }
}
