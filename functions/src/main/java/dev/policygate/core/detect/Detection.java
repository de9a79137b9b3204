package dev.policygate.core.detect;

/** One sensitive entity found in a text: its class and its [start, end) char range. */
public record Detection(DataClass dataClass, int start, int end) {
    public Detection {
        if (start < 0 || end <= start) {
            throw new IllegalArgumentException("bad range " + start + ".." + end);
        }
    }
}
