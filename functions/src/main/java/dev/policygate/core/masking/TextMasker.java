package dev.policygate.core.masking;

import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.Detection;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.detect.JoinedText;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Replaces the sensitive entities of a text that the reader may not see, using the configured
 * {@link MaskingStrategy} per class. Thread-safe and meant to be built once.
 *
 * <p>Limits: masking is only as good as the {@link DetectorSet}; entities it does not recognise
 * pass unchanged. {@code PARTIAL} and {@code HASH} leak, by design, the last characters and the
 * equality of values respectively.
 */
public final class TextMasker {
    private static final String HMAC = "HmacSHA256";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final DetectorSet detectors;
    private final MaskingConfig config;
    private final Mac macPrototype;

    public TextMasker(DetectorSet detectors, MaskingConfig config) {
        this.detectors = Objects.requireNonNull(detectors, "detectors");
        this.config = Objects.requireNonNull(config, "config");
        byte[] key = config.hashKey();
        this.macPrototype = key == null ? null : newMac(key);
    }

    /**
     * Masks {@code text} for a reader described by {@code decider}. Returns the same String
     * instance when nothing had to be replaced.
     */
    public MaskResult mask(String text, UnmaskDecider decider) {
        MaskTally tally = new MaskTally(decider);
        String out = mask(text, tally);
        return new MaskResult(out, tally.detected, tally.masked);
    }

    /** The classes present in {@code text}, without masking anything. */
    public Set<DataClass> detect(String text) {
        List<Detection> found = detectors.scan(text);
        if (found.isEmpty()) {
            return Set.of();
        }
        Set<DataClass> classes = new LinkedHashSet<>();
        for (Detection d : found) {
            classes.add(d.dataClass());
        }
        return Set.copyOf(classes);
    }

    DetectorSet detectors() {
        return detectors;
    }

    String mask(String text, MaskTally tally) {
        List<Detection> found = detectors.scan(text);
        if (found.isEmpty()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        boolean replaced = appendMasked(out, text, 0, text.length(), found, tally);
        return replaced ? out.toString() : text;
    }

    /**
     * Masks {@code text} like {@link #mask(String, MaskTally)}, and also the {@code pieces} (in its
     * coordinates): parts of entities that detection found only with the text around this one. A
     * value that holds a piece is always replaced by the bare placeholder, whatever the strategy:
     * a partial rendering of each piece would show more of the entity than of a whole one. Where a
     * piece overlaps a detection of the text's own, the two are one value, of the class that must
     * be masked if only one must, and a secret wins over personal data as in {@link DetectorSet}.
     */
    String mask(String text, List<Detection> pieces, MaskTally tally) {
        List<Span> spans = new ArrayList<>();
        for (Detection d : detectors.scan(text)) {
            spans.add(new Span(d, false));
        }
        for (Detection d : pieces) {
            spans.add(new Span(d, true));
        }
        spans.sort(Comparator.comparingInt((Span sp) -> sp.d().start()).thenComparingInt(sp -> sp.d().end()));
        StringBuilder out = new StringBuilder(text.length() + 16);
        int pos = 0;
        boolean replaced = false;
        for (int k = 0; k < spans.size(); ) {
            Span first = spans.get(k++);
            int end = first.d().end();
            DataClass cls = first.d().dataClass();
            boolean piece = first.piece();
            for (; k < spans.size() && spans.get(k).d().start() < end; k++) {
                Span next = spans.get(k);
                end = Math.max(end, next.d().end());
                piece |= next.piece();
                cls = stronger(cls, next.d().dataClass(), tally);
            }
            if (!tally.mustMask(cls)) {
                continue;
            }
            int start = first.d().start();
            out.append(text, pos, start);
            if (piece) {
                out.append('[').append(cls.name()).append(']');
            } else {
                appendPlaceholder(out, cls, text.substring(start, end), tally);
            }
            pos = end;
            replaced = true;
        }
        out.append(text, pos, text.length());
        return replaced ? out.toString() : text;
    }

    /** A detection in a text, and whether it is a piece of an entity found only across parts. */
    private record Span(Detection d, boolean piece) {
    }

    /** Of two classes found in one value: the one that must be masked, else a secret, else the first. */
    private static DataClass stronger(DataClass a, DataClass b, MaskTally tally) {
        boolean maskA = tally.mustMask(a);
        boolean maskB = tally.mustMask(b);
        if (maskA != maskB) {
            return maskA ? a : b;
        }
        return b.kind() == DataClass.Kind.SECRET && a.kind() != DataClass.Kind.SECRET ? b : a;
    }

    /**
     * The pieces, per part, of the detections in {@code joined} that cross from one part into the
     * next, each in its part's own coordinates; null when there are none. Each such class that the
     * reader may not see is noted in the tally as masked across parts.
     */
    List<List<Detection>> piecesAcrossJoins(JoinedText joined, MaskTally tally) {
        List<List<Detection>> pieces = null;
        for (Detection d : detectors.scan(joined.toString())) {
            if (!joined.crossesJoin(d)) {
                continue;
            }
            if (pieces == null) {
                pieces = new ArrayList<>(joined.parts());
                for (int i = 0; i < joined.parts(); i++) {
                    pieces.add(null);
                }
            }
            if (tally.mustMask(d.dataClass())) {
                tally.maskedAcrossParts.add(d.dataClass());
            }
            for (int i = joined.partAt(d.start()); i <= joined.partAt(d.end() - 1); i++) {
                int start = Math.max(d.start(), joined.start(i));
                int end = Math.min(d.end(), joined.end(i));
                if (end > start) {
                    if (pieces.get(i) == null) {
                        pieces.set(i, new ArrayList<>(2));
                    }
                    pieces.get(i).add(new Detection(d.dataClass(), start - joined.start(i), end - joined.start(i)));
                }
            }
        }
        return pieces;
    }

    /**
     * Appends {@code text[from, to)} to {@code out}, replacing each detection the reader may not
     * see. Detections reaching outside the range are clipped to it, so that a caller that already
     * emitted part of an entity still masks the rest. Returns whether anything was replaced.
     */
    boolean appendMasked(StringBuilder out, String text, int from, int to, List<Detection> found, MaskTally tally) {
        int pos = from;
        boolean replaced = false;
        for (Detection d : found) {
            int start = Math.max(d.start(), from);
            int end = Math.min(d.end(), to);
            if (end <= start) {
                continue;
            }
            if (!tally.mustMask(d.dataClass())) {
                continue;
            }
            out.append(text, pos, start);
            appendPlaceholder(out, d.dataClass(), text.substring(start, end), tally);
            pos = end;
            replaced = true;
        }
        out.append(text, pos, to);
        return replaced;
    }

    /** Appends the rendering of one masked value under the strategy configured for its class. */
    void appendPlaceholder(StringBuilder out, DataClass dataClass, String value, MaskTally tally) {
        MaskingStrategy strategy = config.strategyFor(dataClass);
        if (strategy == MaskingStrategy.PARTIAL) {
            int keep = Math.min(4, value.length() / 3);
            int tailStart = value.length() - keep;
            if (keep > 0 && Character.isLowSurrogate(value.charAt(tailStart))) {
                tailStart++;
            }
            if (value.length() >= 8 && tailStart < value.length()) {
                out.append('[').append(dataClass.name()).append(" ****").append(value, tailStart, value.length())
                        .append(']');
                return;
            }
        } else if (strategy == MaskingStrategy.HASH) {
            out.append('[').append(dataClass.name()).append(':');
            appendPseudonym(out, dataClass, value);
            out.append(']');
            return;
        }
        out.append('[').append(dataClass.name()).append(']');
    }

    private void appendPseudonym(StringBuilder out, DataClass dataClass, String value) {
        Mac mac = cloneMac();
        // the class is mixed in so that equal strings in different classes are not linkable
        mac.update(dataClass.name().getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) 0);
        byte[] digest = mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 6; i++) {
            out.append(HEX[(digest[i] >> 4) & 0xF]).append(HEX[digest[i] & 0xF]);
        }
    }

    private Mac cloneMac() {
        if (macPrototype == null) {
            throw new MaskingException("HASH masking is configured without a hash key");
        }
        try {
            return (Mac) macPrototype.clone();
        } catch (CloneNotSupportedException e) {
            return newMac(config.hashKey());
        }
    }

    private static Mac newMac(byte[] key) {
        if (key.length == 0) {
            return null;
        }
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }
}
