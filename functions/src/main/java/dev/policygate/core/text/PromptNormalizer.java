package dev.policygate.core.text;

import java.text.Normalizer;

/**
 * Folds a prompt to a canonical matching form, so that policies written against plain words
 * ("delete") also match the usual evasions: case, fullwidth and mathematical letters, zero-width
 * and other invisible characters, soft hyphens, combining accents, Cyrillic and Greek look-alikes,
 * and unusual whitespace.
 *
 * <p>The steps, in order: NFKC; removal of default-ignorable code points and combining marks;
 * folding of confusable homoglyphs to Latin; locale-independent lowercasing; collapsing every run
 * of Unicode whitespace to one space; trimming. Pure ASCII input takes a fast path that only
 * lowercases and collapses whitespace, and returns the same instance when nothing changes.
 *
 * <p>Limits: the output is for matching only, never for display or for forwarding upstream. The
 * homoglyph table is a hand-built subset of UTS #39 {@code confusables.txt} covering Latin
 * look-alikes in Greek, Cyrillic, Armenian and IPA; scripts outside it (Cherokee, Canadian
 * syllabics, ...) pass through unfolded. Lowercasing uses simple case mapping per code point,
 * so Greek final sigma is not special-cased. Combining marks are dropped in every script, which
 * also strips meaningful marks (Devanagari nukta, Hebrew points); that is the intended trade-off.
 */
public final class PromptNormalizer {
    private PromptNormalizer() {
    }

    public static String normalise(CharSequence s) {
        int n = s.length();
        boolean dirty = false;
        char prev = ' ';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return normaliseUnicode(s);
            }
            if ((c >= 'A' && c <= 'Z') || (isAsciiSpace(c) && (c != ' ' || prev == ' ')) || isAsciiControl(c)) {
                dirty = true;
            }
            prev = c;
        }
        if (!dirty && (n == 0 || prev != ' ')) {
            return s.toString();
        }
        return normaliseAscii(s);
    }

    private static String normaliseAscii(CharSequence s) {
        int n = s.length();
        char[] out = new char[n];
        int len = 0;
        boolean pendingSpace = false;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (isAsciiSpace(c)) {
                pendingSpace = len > 0;
                continue;
            }
            if (isAsciiControl(c)) {
                // invisible: "del\u0001ete" must read as "delete"
                continue;
            }
            if (pendingSpace) {
                out[len++] = ' ';
                pendingSpace = false;
            }
            out[len++] = (c >= 'A' && c <= 'Z') ? (char) (c + 32) : c;
        }
        return new String(out, 0, len);
    }

    private static boolean isAsciiControl(char c) {
        return (c < 0x20 && !isAsciiSpace(c)) || c == 0x7F;
    }

    private static boolean isAsciiSpace(char c) {
        // Character.isWhitespace's ASCII set: HT LF VT FF CR, FS GS RS US, and space
        return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    }

    private static String normaliseUnicode(CharSequence s) {
        // NFKD equals NFD(NFKC(s)): one decomposition serves both the compatibility fold and
        // the mark removal, and the NFC at the end recomposes what must stay composed (Hangul).
        String d = Normalizer.normalize(s, Normalizer.Form.NFKD);
        StringBuilder out = new StringBuilder(d.length());
        boolean pendingSpace = false;
        boolean nonAscii = false;
        int n = d.length();
        for (int i = 0; i < n; ) {
            int cp = d.codePointAt(i);
            i += Character.charCount(cp);
            if (isWhitespace(cp)) {
                pendingSpace = out.length() > 0;
                continue;
            }
            if (isIgnorableOrMark(cp)) {
                continue;
            }
            int folded = Homoglyphs.fold(cp);
            if (folded < 0) {
                // fold after lowercasing too: the table lists many look-alikes by their small form
                int lower = Character.toLowerCase(cp);
                int foldedLower = Homoglyphs.fold(lower);
                folded = foldedLower < 0 ? lower : foldedLower;
            }
            if (pendingSpace) {
                out.append(' ');
                pendingSpace = false;
            }
            if (folded >= 0x80) {
                nonAscii = true;
            }
            out.appendCodePoint(folded);
        }
        String result = out.toString();
        if (nonAscii && !Normalizer.isNormalized(result, Normalizer.Form.NFC)) {
            result = Normalizer.normalize(result, Normalizer.Form.NFC);
        }
        return result;
    }

    static boolean isWhitespace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    static boolean isIgnorableOrMark(int cp) {
        switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK:
            case Character.ENCLOSING_MARK:
            case Character.FORMAT:
            case Character.CONTROL: // whitespace controls were handled before; the rest are invisible
                return true;
            default:
                break;
        }
        // Default_Ignorable_Code_Point members that are not Cf/Mn: Hangul fillers, Khmer
        // inherent vowels, Mongolian selectors, unassigned reserved ranges and tags
        // U+2800 BRAILLE PATTERN BLANK renders as a blank but is a symbol: drop it too
        return cp == 0x2800 || cp == 0x115F || cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5
                || (cp >= 0x180B && cp <= 0x180F) || cp == 0x3164 || cp == 0xFFA0
                || (cp >= 0xFFF0 && cp <= 0xFFF8) || (cp >= 0xE0000 && cp <= 0xE0FFF)
                || (cp >= 0x2065 && cp <= 0x2069);
    }
}
