package dev.policygate.core.detect;

import java.util.Arrays;

/**
 * Several strings of a request joined into one text with a newline between each two, as detection
 * sees them, remembering where each part starts. Detection runs on the joined text, so an entity
 * written across two parts (a private key whose header is one content block and whose body is the
 * next) is found; {@link #crossesJoin} tells which detections are of that kind, and
 * {@link #start}/{@link #end} let a masker cut such a detection into one piece per part.
 *
 * <p>Not thread-safe; built per request. Bounded by the request it is built from.
 */
public final class JoinedText {
    private final StringBuilder text;
    /** Where each part starts in {@link #text}; a part's end is one before the next part's start. */
    private int[] starts = new int[16];
    private int parts;

    public JoinedText(int capacity) {
        this.text = new StringBuilder(Math.max(16, capacity));
    }

    /** Appends one part (after a newline, unless it is the first). */
    public void append(String part) {
        if (parts > 0) {
            text.append('\n');
        }
        if (parts == starts.length) {
            starts = Arrays.copyOf(starts, parts * 2);
        }
        starts[parts++] = text.length();
        text.append(part);
    }

    public int parts() {
        return parts;
    }

    /** Where part {@code i} starts in {@link #toString()}. */
    public int start(int i) {
        return starts[i];
    }

    /** Where part {@code i} ends (exclusive) in {@link #toString()}. */
    public int end(int i) {
        return i + 1 < parts ? starts[i + 1] - 1 : text.length();
    }

    /** The part {@code offset} lies in (the newline before a part counts as the part before it). */
    public int partAt(int offset) {
        int i = Arrays.binarySearch(starts, 0, parts, offset);
        return i >= 0 ? i : Math.max(0, -i - 2);
    }

    /**
     * Whether {@code d} covers a newline that joins two parts, even as its last character: a scan of
     * each part alone could miss it.
     */
    public boolean crossesJoin(Detection d) {
        return parts > 1 && d.end() > d.start() && partAt(d.start()) != partAt(d.end());
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
