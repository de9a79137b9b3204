package dev.policygate.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.Detection;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.MaskingStrategy;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.masking.StreamingReplyMasker;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The labelled PII and secrets corpus ({@code corpus/pii/labelled.tsv}): per-class recall and
 * precision of the built-in detectors on whole texts, and the streaming masker checked against
 * whole-text masking at several delta sizes. The figures are printed and quoted in
 * {@code docs/SECURITY.md}.
 *
 * <p>Scoring: a labelled entity is found when one detection of its class covers it entirely (a
 * partial cover would leak the rest). Every other detection, in any line, is a false positive of
 * its class.
 */
class PiiCorpusTest {
    private static final List<String> CLASSES = List.of("EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN",
            "IP_ADDRESS", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "API_KEY", "JWT", "PRIVATE_KEY");
    private static final String NONE = "NONE";
    private static final int[] CHUNK_SIZES = {1, 3, 7, 16};
    private static final int MIN_POSITIVES_PER_CLASS = 10;
    private static final int MIN_HARD_NEGATIVES = 60;
    private static final double MIN_RECALL = 0.95;
    private static final double MIN_PRECISION = 0.95;

    private static final DetectorSet DETECTORS = DetectorSet.builtIns();
    private static final TextMasker MASKER = new TextMasker(DETECTORS,
            new MaskingConfig(MaskingStrategy.REDACT, Map.of(), null));

    /** One corpus line, placeholders expanded; {@code entity} is empty for a hard negative. */
    private record Sample(int entry, String label, String text, String entity) {
        boolean positive() {
            return !NONE.equals(label);
        }

        int entityStart() {
            return text.indexOf(entity);
        }
    }

    private static final class Score {
        int positives;
        int found;
        int falsePositives;
        final int[] streamHidden = new int[CHUNK_SIZES.length];

        double recall() {
            return positives == 0 ? 1.0 : (double) found / positives;
        }

        double precision() {
            return found + falsePositives == 0 ? 1.0 : (double) found / (found + falsePositives);
        }
    }

    private static List<Sample> corpus() {
        List<Sample> out = new ArrayList<>();
        int n = 0;
        for (String raw : CorpusFiles.rawLines("pii/labelled.tsv")) {
            n++;
            String[] cols = raw.split("\t", -1);
            assertThat(cols).as("corpus entry %d: CLASS<TAB>text<TAB>entity", n).hasSize(3);
            String label = cols[0];
            assertThat(label).as("corpus entry %d", n).isIn(withNone());
            String text = FakeSecrets.expand(CorpusFiles.unescape(cols[1]));
            String entity = FakeSecrets.expand(CorpusFiles.unescape(cols[2]));
            Sample s = new Sample(n, label, text, entity);
            if (s.positive()) {
                assertThat(entity).as("corpus entry %d: entity", n).isNotEmpty();
                assertThat(text).as("corpus entry %d: the entity must occur in the text", n).contains(entity);
            } else {
                assertThat(entity).as("corpus entry %d: a NONE line has no entity", n).isEmpty();
            }
            out.add(s);
        }
        return out;
    }

    private static List<String> withNone() {
        List<String> all = new ArrayList<>(CLASSES);
        all.add(NONE);
        return all;
    }

    /** The detection that covers the labelled entity with the right class, if any. */
    private static Detection covering(Sample s, List<Detection> found) {
        if (!s.positive()) {
            return null;
        }
        int start = s.entityStart();
        int end = start + s.entity().length();
        for (Detection d : found) {
            if (d.dataClass().name().equals(s.label()) && d.start() <= start && d.end() >= end) {
                return d;
            }
        }
        return null;
    }

    private static String streamMasked(String text, int chunkSize) {
        List<SseEvent> emitted = new ArrayList<>();
        StreamingReplyMasker stream = new StreamingReplyMasker(MASKER, UnmaskDecider.MASK_ALL, emitted::add);
        ReplyStreams.textInChunks(text, chunkSize).forEach(stream::onEvent);
        stream.onComplete();
        assertThat(stream.completed()).isTrue();
        return ReplyStreams.emittedText(emitted);
    }

    @Test
    void corpus_hasEnoughPositivesPerClass_andEnoughHardNegatives() {
        List<Sample> corpus = corpus();
        for (String c : CLASSES) {
            assertThat(corpus.stream().filter(s -> s.label().equals(c)).count()).as(c)
                    .isGreaterThanOrEqualTo(MIN_POSITIVES_PER_CLASS);
        }
        assertThat(corpus.stream().filter(s -> !s.positive()).count()).isGreaterThanOrEqualTo(MIN_HARD_NEGATIVES);
    }

    @Test
    void detectors_reachRecallAndPrecisionTargets_andStreamingMasksExactlyLikeWholeText() {
        // GIVEN the labelled corpus
        List<Sample> corpus = corpus();
        Map<String, Score> scores = new LinkedHashMap<>();
        CLASSES.forEach(c -> scores.put(c, new Score()));
        List<String> misses = new ArrayList<>();
        List<String> falsePositives = new ArrayList<>();
        List<String> streamDiffers = new ArrayList<>();
        List<String> streamLeaks = new ArrayList<>();

        for (Sample s : corpus) {
            // WHEN each text is scanned whole
            List<Detection> found = DETECTORS.scan(s.text());
            Detection hit = covering(s, found);
            if (s.positive()) {
                Score score = scores.get(s.label());
                score.positives++;
                if (hit != null) {
                    score.found++;
                } else {
                    misses.add("entry " + s.entry() + " " + s.label() + ": " + shorten(s.entity()) + " found "
                            + describe(s.text(), found));
                }
            }
            for (Detection d : found) {
                if (d != hit) {
                    Score score = scores.get(d.dataClass().name());
                    score.falsePositives++;
                    falsePositives.add("entry " + s.entry() + " " + s.label() + ": "
                            + describe(s.text(), List.of(d)));
                }
            }

            // AND streamed through the masker in deltas of 1, 3, 7 and 16 characters
            String whole = MASKER.mask(s.text(), UnmaskDecider.MASK_ALL).text();
            for (int k = 0; k < CHUNK_SIZES.length; k++) {
                String streamed = streamMasked(s.text(), CHUNK_SIZES[k]);
                if (!streamed.equals(whole)) {
                    streamDiffers.add("entry " + s.entry() + " chunk " + CHUNK_SIZES[k] + ": " + shorten(streamed));
                }
                if (s.positive()) {
                    if (streamed.contains(s.entity())) {
                        if (hit != null) {
                            streamLeaks.add("entry " + s.entry() + " chunk " + CHUNK_SIZES[k] + ": " + s.label());
                        }
                    } else {
                        scores.get(s.label()).streamHidden[k]++;
                    }
                }
            }
        }

        // THEN the figures meet the targets
        int positives = scores.values().stream().mapToInt(sc -> sc.positives).sum();
        int foundTotal = scores.values().stream().mapToInt(sc -> sc.found).sum();
        int fpTotal = scores.values().stream().mapToInt(sc -> sc.falsePositives).sum();
        double recall = (double) foundTotal / positives;
        double precision = (double) foundTotal / (foundTotal + fpTotal);
        printTable(corpus, scores, recall, precision);
        misses.forEach(m -> System.out.println("pii: miss " + m));
        falsePositives.forEach(f -> System.out.println("pii: false positive " + f));

        assertThat(recall).as("overall whole-text recall; misses: %s", misses).isGreaterThanOrEqualTo(MIN_RECALL);
        assertThat(precision).as("overall whole-text precision; false positives: %s", falsePositives)
                .isGreaterThanOrEqualTo(MIN_PRECISION);
        // AND streaming never differs from whole-text masking, so it never leaks what whole text masks
        assertThat(streamDiffers).as("streamed output that differs from whole-text masking").isEmpty();
        assertThat(streamLeaks).as("entities masked in whole text but leaked by the stream").isEmpty();
    }

    private static void printTable(List<Sample> corpus, Map<String, Score> scores, double recall, double precision) {
        long negatives = corpus.stream().filter(s -> !s.positive()).count();
        System.out.println("pii: " + corpus.size() + " samples, " + (corpus.size() - negatives) + " entities, "
                + negatives + " hard negatives; streaming deltas of 1, 3, 7, 16 chars");
        System.out.println(String.format(Locale.ROOT, "pii: %-15s %3s %7s %9s %3s  %s", "class", "n", "recall",
                "precision", "FP", "entity absent from streamed output (1/3/7/16)"));
        scores.forEach((c, sc) -> System.out.println(String.format(Locale.ROOT,
                "pii: %-15s %3d %7.3f %9.3f %3d  %d/%d/%d/%d", c, sc.positives, sc.recall(), sc.precision(),
                sc.falsePositives, sc.streamHidden[0], sc.streamHidden[1], sc.streamHidden[2], sc.streamHidden[3])));
        System.out.println(String.format(Locale.ROOT, "pii: %-15s %3d %7.3f %9.3f", "overall",
                corpus.size() - negatives, recall, precision));
    }

    private static String describe(String text, List<Detection> found) {
        List<String> parts = new ArrayList<>();
        for (Detection d : found) {
            parts.add(d.dataClass().name() + "[" + shorten(text.substring(d.start(), d.end())) + "]");
        }
        return parts.toString();
    }

    /** Keeps reports short and never prints a whole (fake) secret. */
    private static String shorten(String s) {
        String oneLine = s.replace("\n", "\\n");
        return oneLine.length() <= 24 ? oneLine
                : oneLine.substring(0, 12) + "..." + oneLine.substring(oneLine.length() - 8);
    }
}
