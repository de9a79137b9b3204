package dev.policygate.core.detect;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JoinedTextTest {
    private static final DataClass KEY = DataClass.PRIVATE_KEY;

    private static JoinedText of(String... parts) {
        JoinedText t = new JoinedText(16);
        for (String p : parts) {
            t.append(p);
        }
        return t;
    }

    @Test
    void parts_areJoinedWithOneNewline_andKnowWhereTheyStartAndEnd() {
        // GIVEN three parts, the middle one empty
        JoinedText t = of("abcd", "", "xy");
        // THEN the text is what detection sees, and each part maps back to its range
        assertThat(t.toString()).isEqualTo("abcd\n\nxy");
        assertThat(t.parts()).isEqualTo(3);
        assertThat(t.start(0)).isZero();
        assertThat(t.end(0)).isEqualTo(4);
        assertThat(t.start(1)).isEqualTo(5);
        assertThat(t.end(1)).isEqualTo(5);
        assertThat(t.start(2)).isEqualTo(6);
        assertThat(t.end(2)).isEqualTo(8);
        // AND the newline before a part belongs to the part before it
        assertThat(t.partAt(3)).isZero();
        assertThat(t.partAt(4)).isZero();
        assertThat(t.partAt(5)).isEqualTo(1);
        assertThat(t.partAt(7)).isEqualTo(2);
    }

    @Test
    void crossesJoin_onlyForADetectionThatCoversTheNewlineBetweenTwoParts() {
        JoinedText t = of("abcd", "efgh");
        assertThat(t.crossesJoin(new Detection(KEY, 1, 4))).isFalse();
        assertThat(t.crossesJoin(new Detection(KEY, 1, 5))).as("takes in the joining newline").isTrue();
        assertThat(t.crossesJoin(new Detection(KEY, 3, 6))).isTrue();
        assertThat(t.crossesJoin(new Detection(KEY, 5, 9))).isFalse();
        // AND a single part has no joins, whatever newlines it holds
        assertThat(of("ab\ncd").crossesJoin(new Detection(KEY, 0, 5))).isFalse();
    }

    @Test
    void manyParts_growTheOffsetTable() {
        JoinedText t = new JoinedText(0);
        for (int i = 0; i < 100; i++) {
            t.append("p" + i);
        }
        assertThat(t.parts()).isEqualTo(100);
        assertThat(t.toString().substring(t.start(99), t.end(99))).isEqualTo("p99");
        assertThat(t.partAt(t.start(57))).isEqualTo(57);
    }
}
