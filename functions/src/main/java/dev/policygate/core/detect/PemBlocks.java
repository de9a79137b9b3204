package dev.policygate.core.detect;

/**
 * PEM private-key block recognition, shared by the scanner (complete texts) and by the streaming
 * hold-back check (texts that may still grow).
 */
final class PemBlocks {
    static final String BEGIN = "-----BEGIN ";
    static final String DASHES = "-----";
    static final String END = "-----END ";
    /** A key block is searched for its END line this far; larger blocks are treated as open. */
    static final int MAX_BLOCK = 64 * 1024;
    /** Base64 characters after an unterminated header that make it a key rather than a mention. */
    static final int MIN_UNTERMINATED_BASE64 = 64;
    private static final int MAX_LABEL = 48;
    private static final String KEY_SUFFIX = "PRIVATE KEY";

    private PemBlocks() {
    }

    /**
     * The index just past the {@code -----} closing a BEGIN header at {@code i}, or -1 when there
     * is no well-formed header there, or -2 when the text ends inside what could still become one.
     */
    static int headerEnd(CharSequence s, int i) {
        int n = s.length();
        int j = i;
        for (int k = 0; k < BEGIN.length(); k++, j++) {
            if (j == n) {
                return -2;
            }
            if (s.charAt(j) != BEGIN.charAt(k)) {
                return -1;
            }
        }
        int labelStart = j;
        while (j < n && j - labelStart <= MAX_LABEL) {
            char c = s.charAt(j);
            if (c == '-') {
                for (int k = 0; k < DASHES.length(); k++) {
                    if (j + k == n) {
                        return -2;
                    }
                    if (s.charAt(j + k) != '-') {
                        return -1;
                    }
                }
                return j + DASHES.length();
            }
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ')) {
                return -1;
            }
            j++;
        }
        return j == n ? -2 : -1;
    }

    /** Whether the complete header {@code s[i, headerEnd)} announces a private key. */
    static boolean isPrivateKeyHeader(CharSequence s, int i, int headerEnd) {
        int labelEnd = headerEnd - DASHES.length();
        int start = labelEnd - KEY_SUFFIX.length();
        return start >= i + BEGIN.length() && regionEquals(s, start, KEY_SUFFIX);
    }

    /**
     * The index just past the END line matching the header {@code s[i, headerEnd)}, given the
     * position of the first {@code -----END } after the header ({@code marker}, or -1). Only that
     * first END line is considered, which keeps repeated headers from costing a search each.
     * Returns -1 when it is missing, too far ({@link #MAX_BLOCK}) or for another label.
     */
    static int endLineEnd(CharSequence s, int i, int headerEnd, int marker) {
        if (marker < 0 || marker - i > MAX_BLOCK) {
            return -1;
        }
        int labelStart = i + BEGIN.length();
        int labelLen = headerEnd - DASHES.length() - labelStart;
        int at = marker + END.length();
        if (regionEquals(s, at, s, labelStart, labelLen) && regionEquals(s, at + labelLen, DASHES)) {
            return at + labelLen + DASHES.length();
        }
        return -1;
    }

    /** The first {@code -----END } at or after {@code from}, or -1. */
    static int nextEndMarker(CharSequence s, int from) {
        int last = s.length() - END.length();
        for (int j = Math.max(from, 0); j <= last; j++) {
            if (s.charAt(j) == '-' && regionEquals(s, j, END)) {
                return j;
            }
        }
        return -1;
    }

    /**
     * For a header without END line: the end of the base64 body that follows it, when that body
     * holds at least {@link #MIN_UNTERMINATED_BASE64} base64 characters; otherwise -1. The body
     * is read line by line so that prose after the key is not swallowed; a final partial line is
     * kept only when it is long enough not to be an ordinary word.
     */
    static int unterminatedBodyEnd(CharSequence s, int headerEnd) {
        int n = s.length();
        int limit = Math.min(n, headerEnd + MAX_BLOCK);
        int j = headerEnd;
        int count = 0;
        int end = -1;
        while (j < limit) {
            while (j < limit && (s.charAt(j) == '\r' || s.charAt(j) == '\n')) {
                j++;
            }
            int lineStart = j;
            while (j < limit && isBase64(s.charAt(j))) {
                j++;
            }
            int lineLen = j - lineStart;
            if (lineLen == 0) {
                break;
            }
            boolean wholeLine = j == n || s.charAt(j) == '\r' || s.charAt(j) == '\n';
            if (wholeLine || lineLen >= 16) {
                count += lineLen;
                end = j;
            }
            if (!wholeLine) {
                break;
            }
        }
        return count >= MIN_UNTERMINATED_BASE64 ? end : -1;
    }

    /**
     * The start of the first private-key block at or after {@code from} that the text does not
     * yet close: a complete header without its END line, or a BEGIN header cut off by the end
     * of the text. -1 when there is none.
     */
    static int pendingStart(CharSequence s, int from) {
        int n = s.length();
        int j = Math.max(from, 0);
        while (j < n) {
            int i = indexOf(s, '-', j);
            if (i < 0) {
                return -1;
            }
            int he = headerEnd(s, i);
            if (he == -2) {
                // a dash run at the very end may still grow into a header
                return i;
            }
            if (he > 0 && isPrivateKeyHeader(s, i, he)) {
                int end = endLineEnd(s, i, he, nextEndMarker(s, he));
                if (end < 0) {
                    return i;
                }
                j = end;
            } else {
                j = i + 1;
            }
        }
        return -1;
    }

    static boolean isBase64(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '+' || c == '/' || c == '=';
    }

    private static int indexOf(CharSequence s, char c, int from) {
        for (int i = from, n = s.length(); i < n; i++) {
            if (s.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

    static boolean regionEquals(CharSequence s, int at, String literal) {
        return regionEquals(s, at, literal, 0, literal.length());
    }

    private static boolean regionEquals(CharSequence s, int at, CharSequence other, int otherStart, int len) {
        if (at < 0 || at + len > s.length()) {
            return false;
        }
        for (int k = 0; k < len; k++) {
            if (s.charAt(at + k) != other.charAt(otherStart + k)) {
                return false;
            }
        }
        return true;
    }
}
