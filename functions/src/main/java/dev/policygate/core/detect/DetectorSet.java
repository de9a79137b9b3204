package dev.policygate.core.detect;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Finds sensitive entities in text: the built-in classes on {@link DataClass} plus custom patterns
 * from policy configuration. Immutable and thread-safe; build it once at start-up.
 *
 * <p>The built-in detectors run as a single pass with cheap triggers and local validation
 * (checksums, ranges, layouts), so scanning costs about one table lookup per character. Custom
 * patterns are RE2J expressions run with {@code find()} over the whole text, which is linear
 * but adds one pass per pattern.
 *
 * <p>Limits: only ASCII renderings of entities are recognised; detection is heuristic and tuned
 * against the false positives listed in the tests (dates, versions, UUIDs, git SHAs, times).
 * Custom matches are not bounded by {@link #maxEntityLength()}, so a streaming masker may cut
 * through custom matches longer than that.
 */
public final class DetectorSet {
    private static final int MAX_CUSTOM_REGEX = 1000;
    private static final Comparator<Detection> ORDER = Comparator
            .comparingInt(Detection::start)
            .thenComparing(Comparator.comparingInt(Detection::end).reversed())
            .thenComparing(d -> d.dataClass().kind() == DataClass.Kind.SECRET ? 0 : 1);
    private static final DetectorSet BUILT_INS = new DetectorSet(List.of());

    private final List<CompiledPattern> custom;

    private DetectorSet(List<CompiledPattern> custom) {
        this.custom = custom;
    }

    public static DetectorSet builtIns() {
        return BUILT_INS;
    }

    /** The built-ins plus {@code custom}, each found wherever its expression matches. */
    public static DetectorSet withCustom(List<CustomPattern> custom) {
        List<CompiledPattern> compiled = new ArrayList<>();
        for (CustomPattern p : custom) {
            compiled.add(new CompiledPattern(p.dataClass(), Pattern.compile(p.regex())));
        }
        return new DetectorSet(List.copyOf(compiled));
    }

    /**
     * Non-overlapping detections sorted by start. Overlapping candidates merge into one detection
     * covering their union, so nothing either found is left unmasked; its class is the first
     * candidate's (earlier start, then longer), unless a later one is a secret and it is not.
     */
    public List<Detection> scan(CharSequence text) {
        String s = text.toString();
        List<Detection> found = new ArrayList<>(4);
        BuiltInScanner.scan(s, found);
        for (CompiledPattern p : custom) {
            Matcher m = p.pattern().matcher(s);
            while (m.find()) {
                if (m.end() > m.start()) {
                    found.add(new Detection(p.dataClass(), m.start(), m.end()));
                }
            }
        }
        return resolveOverlaps(found);
    }

    private static List<Detection> resolveOverlaps(List<Detection> found) {
        if (found.isEmpty()) {
            return List.of();
        }
        if (found.size() == 1) {
            return List.of(found.get(0));
        }
        found.sort(ORDER);
        List<Detection> kept = new ArrayList<>(found.size());
        for (Detection d : found) {
            Detection last = kept.isEmpty() ? null : kept.get(kept.size() - 1);
            if (last == null || d.start() >= last.end()) {
                kept.add(d);
            } else if (d.end() > last.end() || (d.dataClass().kind() == DataClass.Kind.SECRET
                    && last.dataClass().kind() != DataClass.Kind.SECRET)) {
                // overlapping candidates merge: the union is masked, and a secret inside wins the
                // class (a token in "https://gho_...@github.com" is an API key, not an email)
                DataClass cls = last.dataClass().kind() == DataClass.Kind.SECRET ? last.dataClass() : d.dataClass();
                kept.set(kept.size() - 1, new Detection(cls, last.start(), Math.max(last.end(), d.end())));
            }
        }
        return List.copyOf(kept);
    }

    /** Whether policy authors added patterns (which may span spaces and words). */
    public boolean hasCustomPatterns() {
        return !custom.isEmpty();
    }

    /**
     * The longest built-in entity (other than {@link DataClass#PRIVATE_KEY} blocks and long
     * JWTs, which are whitespace-free and have their own hold rules) that a streaming masker
     * must hold back so that no entity is split between an emitted and a held part.
     */
    public int maxEntityLength() {
        return BuiltInScanner.MAX_ENTITY;
    }

    /**
     * For text that may still grow: the start of the first private-key PEM block at or after
     * {@code from} that is not yet closed by its END line (or whose BEGIN header is cut off by the
     * end of the text), or -1 when there is none. A streaming masker holds text from there on.
     */
    public int pendingPrivateKeyStart(CharSequence text, int from) {
        return PemBlocks.pendingStart(text, from);
    }

    /**
     * A policy author's pattern for an additional data class. The expression is RE2J (linear
     * time, no backreferences or lookaround), at most 1000 characters, and must not be able to
     * match the empty string.
     */
    public record CustomPattern(String name, DataClass.Kind kind, String regex) {
        public CustomPattern {
            Objects.requireNonNull(kind, "kind");
            new DataClass(name, kind);
            if (regex == null || regex.isEmpty() || regex.length() > MAX_CUSTOM_REGEX) {
                throw new IllegalArgumentException(
                        "custom pattern " + name + ": regex must be 1.." + MAX_CUSTOM_REGEX + " characters");
            }
            Pattern compiled;
            try {
                compiled = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(
                        "custom pattern " + name + ": not a valid RE2 expression: " + e.getDescription(), e);
            }
            if (matchesEmpty(compiled)) {
                throw new IllegalArgumentException("custom pattern " + name + ": regex can match the empty string");
            }
        }

        public DataClass dataClass() {
            return new DataClass(name, kind);
        }

        /**
         * RE2 has no lookaround, so an empty match needs optional content, anchors or word
         * boundaries; probing a few short texts catches all three.
         */
        private static boolean matchesEmpty(Pattern p) {
            for (String probe : new String[] {"", " ", "a", "a b", "0 A_z-1.", "\n"}) {
                Matcher m = p.matcher(probe);
                while (m.find()) {
                    if (m.end() == m.start()) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    private record CompiledPattern(DataClass dataClass, Pattern pattern) {
    }
}
