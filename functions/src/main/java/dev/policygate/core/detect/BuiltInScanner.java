package dev.policygate.core.detect;

import java.util.List;

/**
 * The built-in detectors as one pass over the characters. Each position costs a table lookup;
 * only cheap triggers (an {@code @}, a digit or letter starting a token, a {@code +}, {@code (},
 * {@code -} or {@code :}) lead to a local, bounded validation. Candidates may overlap; the caller
 * resolves overlaps.
 *
 * <p>Only ASCII forms are recognised (fullwidth digits and the like are the normaliser's job on
 * the request side). A non-ASCII character always counts as a token boundary.
 */
final class BuiltInScanner {
    static final int MAX_ENTITY = 256;
    private static final int MAX_JWT = 16 * 1024;

    private static final byte DIGIT = 1;
    private static final byte UPPER = 2;
    private static final byte LOWER = 4;
    private static final byte ALNUM = DIGIT | UPPER | LOWER;
    /** The alphabet of AWS secret keys: base64 without padding. */
    private static final byte B64 = 8;
    private static final byte HEX = 16;
    /** Punctuation that can start an entity on its own. */
    private static final byte TRIGGER = 32;
    private static final byte[] CLS = new byte[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            CLS[c] = DIGIT | B64 | HEX;
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            CLS[c] = UPPER | B64;
            CLS[c + 32] = LOWER | B64;
        }
        for (char c = 'A'; c <= 'F'; c++) {
            CLS[c] |= HEX;
            CLS[c + 32] |= HEX;
        }
        CLS['/'] = B64;
        CLS['+'] = B64 | TRIGGER;
        CLS['@'] = TRIGGER;
        CLS['('] = TRIGGER;
        CLS['-'] = TRIGGER;
        CLS[':'] = TRIGGER;
    }

    private static final String[] AWS_PREFIXES = {"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"};

    private final String s;
    private final int n;
    private final List<Detection> out;
    private int endMarker = -1;
    private int endMarkerFrom = -1;

    private BuiltInScanner(String s, List<Detection> out) {
        this.s = s;
        this.n = s.length();
        this.out = out;
    }

    static void scan(String text, List<Detection> out) {
        new BuiltInScanner(text, out).run();
    }

    private void run() {
        int b64Start = -1;
        boolean prevAlnum = false;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 128) {
                if (b64Start >= 0) {
                    awsSecretRun(b64Start, i);
                    b64Start = -1;
                }
                prevAlnum = false;
                continue;
            }
            int cls = CLS[c];
            if ((cls & B64) != 0) {
                if (b64Start < 0) {
                    b64Start = i;
                }
            } else if (b64Start >= 0) {
                awsSecretRun(b64Start, i);
                b64Start = -1;
            }
            if ((cls & ALNUM) != 0) {
                if (!prevAlnum) {
                    tokenStart(i, c, cls);
                }
                prevAlnum = true;
                continue;
            }
            prevAlnum = false;
            if ((cls & TRIGGER) != 0) {
                switch (c) {
                    case '@' -> email(i);
                    case '+' -> add(DataClass.PHONE, i, internationalPhone(i));
                    case '(' -> add(DataClass.PHONE, i, usPhone(i));
                    case '-' -> privateKey(i);
                    case ':' -> {
                        if (i + 1 < n && s.charAt(i + 1) == ':' && ipv6StartOk(i)) {
                            add(DataClass.IP_ADDRESS, i, ipv6(i));
                        }
                    }
                    default -> {
                    }
                }
            }
        }
        if (b64Start >= 0) {
            awsSecretRun(b64Start, n);
        }
    }

    private void add(DataClass dataClass, int start, int end) {
        if (end > start) {
            out.add(new Detection(dataClass, start, end));
        }
    }

    // ---- character helpers -------------------------------------------------------------

    private char at(int i) {
        return i >= 0 && i < n ? s.charAt(i) : '\0';
    }

    private static boolean is(char c, byte mask) {
        return c < 128 && (CLS[c] & mask) != 0;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isUpperOrDigit(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    private static boolean isUrlSafe(char c) {
        return is(c, ALNUM) || c == '_' || c == '-';
    }

    private int digitRun(int i, int max) {
        int j = i;
        while (j < n && j - i < max && isDigit(s.charAt(j))) {
            j++;
        }
        return j - i;
    }

    /** A number starts here rather than continuing a dotted, dashed or alphanumeric one. */
    private boolean numberStartOk(int i) {
        char p = at(i - 1);
        if (p == '.' || p == '_') {
            return false;
        }
        return p != '-' || !is(at(i - 2), ALNUM);
    }

    /** A number ends here rather than running on into letters or another dotted/dashed part. */
    private boolean numberEndOk(int e) {
        char c = at(e);
        if (is(c, ALNUM) || c == '_') {
            return false;
        }
        return !((c == '.' || c == '-') && isDigit(at(e + 1)));
    }

    // ---- dispatch ----------------------------------------------------------------------

    private void tokenStart(int i, char c, int cls) {
        if ((cls & DIGIT) != 0) {
            if (numberStartOk(i)) {
                numeric(i);
            }
        } else if ((cls & UPPER) != 0) {
            if (c == 'A') {
                awsAccessKey(i);
            }
            iban(i);
        } else {
            switch (c) {
                case 's' -> add(DataClass.API_KEY, i, openAiOrAnthropicKey(i));
                case 'g' -> add(DataClass.API_KEY, i, githubToken(i));
                case 'x' -> add(DataClass.API_KEY, i, slackToken(i));
                case 'e' -> add(DataClass.JWT, i, jwt(i));
                default -> {
                }
            }
        }
        if ((cls & HEX) != 0) {
            maybeIpv6(i);
        }
    }

    private void numeric(int i) {
        int k = digitRun(i, 20);
        char after = at(i + k);
        if (k == 3 && after == '-') {
            add(DataClass.US_SSN, i, ssn(i));
        }
        if (k == 3 || (k == 1 && s.charAt(i) == '1')) {
            add(DataClass.PHONE, i, usPhone(i));
        }
        if (k <= 3 && after == '.') {
            add(DataClass.IP_ADDRESS, i, ipv4(i));
        }
        if (k >= 3) {
            add(DataClass.CREDIT_CARD, i, creditCard(i, k));
        }
    }

    // ---- EMAIL -------------------------------------------------------------------------

    private static boolean isLocalPart(char c) {
        return is(c, ALNUM) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
    }

    private static boolean isDomainChar(char c) {
        return is(c, ALNUM) || c == '.' || c == '-';
    }

    private void email(int at) {
        int start = at;
        while (start > 0 && at - start <= 64 && isLocalPart(s.charAt(start - 1))) {
            start--;
        }
        if (at - start > 64) {
            return;
        }
        while (start < at && s.charAt(start) == '.') {
            start++;
        }
        if (start == at || s.charAt(at - 1) == '.') {
            return;
        }
        int end = at + 1;
        while (end < n && end - at <= 254 && isDomainChar(s.charAt(end))) {
            end++;
        }
        // a sentence may end right after the address
        while (end > at + 1 && (s.charAt(end - 1) == '.' || s.charAt(end - 1) == '-')) {
            end--;
        }
        if (validDomain(at + 1, end)) {
            add(DataClass.EMAIL, start, end);
        }
    }

    private boolean validDomain(int from, int to) {
        if (to - from < 4 || to - from > 253) {
            return false;
        }
        int labels = 0;
        int labelStart = from;
        for (int j = from; j <= to; j++) {
            if (j == to || s.charAt(j) == '.') {
                int len = j - labelStart;
                if (len == 0 || len > 63 || s.charAt(labelStart) == '-' || s.charAt(j - 1) == '-') {
                    return false;
                }
                labels++;
                if (j == to) {
                    if (labels < 2 || len < 2) {
                        return false;
                    }
                    for (int t = labelStart; t < to; t++) {
                        if (!is(s.charAt(t), (byte) (UPPER | LOWER))) {
                            return false;
                        }
                    }
                }
                labelStart = j + 1;
            }
        }
        return true;
    }

    // ---- PHONE -------------------------------------------------------------------------

    private static boolean isPhoneSeparator(char c) {
        return c == '-' || c == '.' || c == ' ';
    }

    /**
     * NANP layouts: {@code (415) 555-0132}, {@code 415-555-0132}, {@code 415.555.0132},
     * {@code 415 555 0132}, optionally after {@code 1-}/{@code 1 }. Separators are required so that
     * order numbers and other bare digit runs do not match.
     */
    private int usPhone(int i) {
        int j = i;
        if (at(j) == '1' && isPhoneSeparator(at(j + 1)) && (isDigit(at(j + 2)) || at(j + 2) == '(')) {
            j += 2;
        }
        char sep1;
        if (at(j) == '(') {
            if (digitRun(j + 1, 4) != 3 || at(j + 4) != ')') {
                return -1;
            }
            if (!areaOk(j + 1)) {
                return -1;
            }
            j += 5;
            // after "(415)" any single separator, or none, is a phone layout
            sep1 = ')';
            if (at(j) == ' ') {
                j++;
            }
        } else {
            if (digitRun(j, 4) != 3 || !areaOk(j)) {
                return -1;
            }
            j += 3;
            sep1 = at(j);
            if (!isPhoneSeparator(sep1)) {
                return -1;
            }
            j++;
        }
        if (digitRun(j, 4) != 3 || !areaOk(j)) {
            return -1;
        }
        j += 3;
        char sep2 = at(j);
        if (!isPhoneSeparator(sep2)) {
            return -1;
        }
        if (sep1 != ')' && sep1 != sep2 && !(sep1 == ' ' && sep2 == '-')) {
            return -1;
        }
        j++;
        if (digitRun(j, 5) != 4) {
            return -1;
        }
        j += 4;
        return numberEndOk(j) ? j : -1;
    }

    /** NANP area codes and exchanges never start with 0 or 1. */
    private boolean areaOk(int i) {
        return s.charAt(i) >= '2';
    }

    /**
     * E.164 with a leading {@code +}: digit groups split by single spaces, dashes or dots, with an
     * optional parenthesised group; 8 to 15 digits (10 when there is no separator at all, so that
     * "+100000000" in prose is not a phone).
     */
    private int internationalPhone(int plus) {
        if (is(at(plus - 1), ALNUM) || !isDigit(at(plus + 1)) || at(plus + 1) == '0') {
            return -1;
        }
        int j = plus + 1;
        int digits = 0;
        int groups = 0;
        int best = -1;
        while (j < n) {
            int k;
            if (s.charAt(j) == '(') {
                k = digitRun(j + 1, 5);
                if (k == 0 || k > 4 || at(j + 1 + k) != ')') {
                    break;
                }
                j += k + 2;
            } else {
                k = digitRun(j, 16);
                if (k == 0) {
                    break;
                }
                j += k;
            }
            digits += k;
            groups++;
            if (digits > 15) {
                break;
            }
            if (digits >= (groups == 1 ? 10 : 8) && numberEndOk(j)) {
                best = j;
            }
            char c = at(j);
            if (isPhoneSeparator(c) && (isDigit(at(j + 1)) || at(j + 1) == '(')) {
                j++;
            } else if (c != '(') {
                break;
            }
        }
        return best;
    }

    // ---- US_SSN ------------------------------------------------------------------------

    private int ssn(int i) {
        if (at(i + 3) != '-' || digitRun(i + 4, 3) != 2 || at(i + 6) != '-' || digitRun(i + 7, 5) != 4) {
            return -1;
        }
        int end = i + 11;
        if (!numberEndOk(end)) {
            return -1;
        }
        int area = (s.charAt(i) - '0') * 100 + (s.charAt(i + 1) - '0') * 10 + (s.charAt(i + 2) - '0');
        boolean groupZero = s.charAt(i + 4) == '0' && s.charAt(i + 5) == '0';
        boolean serialZero = s.startsWith("0000", i + 7);
        if (area == 0 || area == 666 || area >= 900 || groupZero || serialZero) {
            return -1;
        }
        return end;
    }

    // ---- CREDIT_CARD -------------------------------------------------------------------

    /**
     * 13-19 digits, either contiguous or in groups of 3-6 (the last group 1-6) split by one kind
     * of single separator. The longest prefix that passes the IIN and Luhn checks wins.
     */
    private int creditCard(int i, int firstGroup) {
        if (firstGroup >= 13) {
            int end = i + firstGroup;
            return firstGroup <= 19 && numberEndOk(end) && cardValid(i, end, firstGroup) ? end : -1;
        }
        if (firstGroup > 6) {
            return -1;
        }
        char sep = at(i + firstGroup);
        if (sep != ' ' && sep != '-') {
            return -1;
        }
        int[] ends = new int[8];
        int[] counts = new int[8];
        int found = 0;
        int j = i + firstGroup;
        int digits = firstGroup;
        while (found < ends.length && at(j) == sep) {
            int k = digitRun(j + 1, 7);
            if (k == 0 || k > 6 || digits + k > 19) {
                break;
            }
            j += 1 + k;
            digits += k;
            if (digits >= 13) {
                ends[found] = j;
                counts[found] = digits;
                found++;
            }
            if (k < 3) {
                break;
            }
        }
        for (int f = found - 1; f >= 0; f--) {
            if (numberEndOk(ends[f]) && cardValid(i, ends[f], counts[f])) {
                return ends[f];
            }
        }
        return -1;
    }

    private boolean cardValid(int from, int to, int digitCount) {
        StringBuilder head = new StringBuilder(4);
        for (int j = from; j < to && head.length() < 4; j++) {
            char c = s.charAt(j);
            if (isDigit(c)) {
                head.append(c);
            }
        }
        return Checksums.plausibleCardPrefix(head.toString(), digitCount) && Checksums.luhn(s, from, to);
    }

    // ---- IBAN --------------------------------------------------------------------------

    private void iban(int i) {
        char c1 = at(i + 1);
        if (!(c1 >= 'A' && c1 <= 'Z') || !isDigit(at(i + 2)) || !isDigit(at(i + 3))) {
            return;
        }
        int expected = Checksums.ibanLength(s.substring(i, i + 2));
        char next = at(i + 4);
        if (isUpperOrDigit(next)) {
            int j = i + 4;
            while (j < n && j - i <= 34 && isUpperOrDigit(s.charAt(j))) {
                j++;
            }
            int len = j - i;
            if (!is(at(j), ALNUM) && lengthOk(len, expected) && Checksums.ibanChecksumValid(s, i, j)) {
                add(DataClass.IBAN, i, j);
            }
            return;
        }
        if (next != ' ') {
            return;
        }
        // printed form: groups of four split by single spaces, the last group shorter
        int j = i + 4;
        int len = 4;
        int best = -1;
        while (at(j) == ' ' && isUpperOrDigit(at(j + 1))) {
            int k = 0;
            while (k < 5 && isUpperOrDigit(at(j + 1 + k))) {
                k++;
            }
            if (k > 4 || is(at(j + 1 + k), ALNUM) || len + k > 34) {
                break;
            }
            j += 1 + k;
            len += k;
            if (lengthOk(len, expected) && Checksums.ibanChecksumValid(s, i, j)) {
                best = j;
            }
            if (k < 4) {
                break;
            }
        }
        add(DataClass.IBAN, i, best);
    }

    private static boolean lengthOk(int len, int expected) {
        return expected > 0 ? len == expected : len >= 15 && len <= 34;
    }

    // ---- IP_ADDRESS --------------------------------------------------------------------

    /** Dotted quad, each part 0-255, not embedded in a longer dotted number. */
    private int ipv4(int i) {
        int j = i;
        for (int part = 0; part < 4; part++) {
            if (part > 0) {
                if (at(j) != '.') {
                    return -1;
                }
                j++;
            }
            int k = digitRun(j, 4);
            if (k == 0 || k > 3) {
                return -1;
            }
            int v = Integer.parseInt(s, j, j + k, 10);
            if (v > 255) {
                return -1;
            }
            j += k;
        }
        return numberEndOk(j) ? j : -1;
    }

    private boolean ipv6StartOk(int i) {
        char p = at(i - 1);
        return !is(p, ALNUM) && p != ':' && p != '.' && p != '_';
    }

    private void maybeIpv6(int i) {
        int k = 0;
        while (k < 5 && is(at(i + k), HEX)) {
            k++;
        }
        if (k <= 4 && at(i + k) == ':' && ipv6StartOk(i)) {
            add(DataClass.IP_ADDRESS, i, ipv6(i));
        }
    }

    /**
     * RFC 4291 text forms: eight hextets, or fewer with exactly one {@code ::}, optionally ending in
     * a dotted quad. At least one decimal digit is required, which keeps {@code Face::add} and
     * other scope operators out; times ({@code 12:30:45}) and MAC addresses fail the group count.
     */
    private int ipv6(int i) {
        int j = i;
        int groups = 0;
        boolean compressed = false;
        boolean digit = false;
        if (at(j) == ':') {
            if (at(j + 1) != ':') {
                return -1;
            }
            compressed = true;
            j += 2;
        }
        while (j < n) {
            int k = 0;
            while (k < 5 && is(at(j + k), HEX)) {
                k++;
            }
            if (k == 0) {
                break;
            }
            if (at(j + k) == '.' && isDigit(at(j + k + 1))) {
                int end = ipv4(j);
                if (end < 0) {
                    return -1;
                }
                groups += 2;
                j = end;
                digit = true;
                break;
            }
            if (k > 4) {
                return -1;
            }
            for (int t = 0; t < k; t++) {
                digit |= isDigit(s.charAt(j + t));
            }
            groups++;
            j += k;
            if (at(j) != ':') {
                break;
            }
            if (at(j + 1) == ':') {
                if (compressed) {
                    return -1;
                }
                compressed = true;
                j += 2;
            } else if (is(at(j + 1), HEX)) {
                j++;
            } else {
                break;
            }
        }
        boolean shapeOk = compressed ? groups <= 7 : groups == 8;
        if (!shapeOk || !digit || groups == 0 || is(at(j), ALNUM) || at(j) == '_') {
            return -1;
        }
        return j;
    }

    // ---- AWS ---------------------------------------------------------------------------

    private void awsAccessKey(int i) {
        if (i + 20 > n) {
            return;
        }
        boolean prefix = false;
        for (String p : AWS_PREFIXES) {
            if (s.startsWith(p, i)) {
                prefix = true;
                break;
            }
        }
        if (!prefix) {
            return;
        }
        for (int j = i + 4; j < i + 20; j++) {
            if (!isUpperOrDigit(s.charAt(j))) {
                return;
            }
        }
        if (!is(at(i + 20), ALNUM)) {
            add(DataClass.AWS_ACCESS_KEY, i, i + 20);
        }
    }

    /**
     * A maximal run of base64 characters just ended. AWS secret keys are exactly 40 random
     * characters, so the run must be 40 long, mix cases and digits, and not be hex (git SHAs).
     * Runs glued to {@code _}, {@code -} or followed by {@code =} belong to something longer.
     */
    private void awsSecretRun(int start, int end) {
        if (end - start != 40) {
            return;
        }
        char before = at(start - 1);
        char after = at(end);
        if (before == '_' || before == '-' || after == '_' || after == '-' || after == '=') {
            return;
        }
        int upper = 0;
        int lower = 0;
        int digits = 0;
        int slashes = 0;
        boolean hexOnly = true;
        for (int j = start; j < end; j++) {
            char c = s.charAt(j);
            int cls = CLS[c];
            if ((cls & UPPER) != 0) {
                upper++;
            } else if ((cls & LOWER) != 0) {
                lower++;
            } else if ((cls & DIGIT) != 0) {
                digits++;
            } else if (c == '/') {
                slashes++;
            }
            hexOnly &= (cls & HEX) != 0;
        }
        // random keys average 16 upper and 16 lower; paths and identifiers rarely reach 5 of each
        if (upper >= 5 && lower >= 5 && digits >= 1 && slashes <= 4 && !hexOnly) {
            add(DataClass.AWS_SECRET_KEY, start, end);
        }
    }

    // ---- API_KEY -----------------------------------------------------------------------

    /** Anthropic {@code sk-ant-...} and OpenAI {@code sk-...}/{@code sk-proj-...} keys. */
    private int openAiOrAnthropicKey(int i) {
        if (!s.startsWith("sk-", i)) {
            return -1;
        }
        int j = i + 3;
        boolean upper = false;
        boolean lower = false;
        boolean digit = false;
        while (j < n && j - i < 512 && isUrlSafe(s.charAt(j))) {
            char c = s.charAt(j);
            upper |= c >= 'A' && c <= 'Z';
            lower |= c >= 'a' && c <= 'z';
            digit |= isDigit(c);
            j++;
        }
        if (j - i - 3 < 20 || isUrlSafe(at(j)) || !(upper && lower && digit)) {
            return -1;
        }
        return j;
    }

    private int githubToken(int i) {
        if (s.startsWith("github_pat_", i)) {
            int j = i + 11;
            while (j < n && j - i < 300 && (is(s.charAt(j), ALNUM) || s.charAt(j) == '_')) {
                j++;
            }
            return j - i - 11 >= 22 && !is(at(j), ALNUM) ? j : -1;
        }
        if (at(i + 1) != 'h' || "pousr".indexOf(at(i + 2)) < 0 || at(i + 3) != '_') {
            return -1;
        }
        int j = i + 4;
        while (j < n && j - i < 300 && is(s.charAt(j), ALNUM)) {
            j++;
        }
        return j - i - 4 >= 36 && !isUrlSafe(at(j)) ? j : -1;
    }

    private int slackToken(int i) {
        if (!s.startsWith("xox", i) || "abprs".indexOf(at(i + 3)) < 0 || at(i + 4) != '-') {
            return -1;
        }
        int j = i + 5;
        boolean digit = false;
        while (j < n && j - i < 300 && (is(s.charAt(j), ALNUM) || s.charAt(j) == '-')) {
            digit |= isDigit(s.charAt(j));
            j++;
        }
        while (s.charAt(j - 1) == '-') {
            j--;
        }
        return j - i - 5 >= 10 && digit && !is(at(j), ALNUM) && at(j) != '_' ? j : -1;
    }

    // ---- JWT ---------------------------------------------------------------------------

    /** {@code eyJ<header>.eyJ<payload>.<signature>} in base64url; the signature may be empty. */
    private int jwt(int i) {
        if (!s.startsWith("eyJ", i)) {
            return -1;
        }
        int j = urlSafeRun(i);
        if (j - i < 10 || at(j) != '.' || !s.startsWith("eyJ", j + 1)) {
            return -1;
        }
        int payloadEnd = urlSafeRun(j + 1);
        if (payloadEnd - j - 1 < 10 || at(payloadEnd) != '.') {
            return -1;
        }
        int end = urlSafeRun(payloadEnd + 1);
        return end - i <= MAX_JWT ? end : -1;
    }

    private int urlSafeRun(int j) {
        int limit = Math.min(n, j + MAX_JWT);
        while (j < limit && isUrlSafe(s.charAt(j))) {
            j++;
        }
        return j;
    }

    // ---- PRIVATE_KEY -------------------------------------------------------------------

    /**
     * The first END marker at or after {@code from}. Headers are met in increasing order, so the
     * answer is cached and the text is searched at most about once however many headers it has.
     */
    private int nextEndMarker(int from) {
        if (endMarkerFrom < 0 || from < endMarkerFrom || (endMarker >= 0 && endMarker < from)) {
            endMarker = PemBlocks.nextEndMarker(s, from);
            endMarkerFrom = from;
        }
        return endMarker;
    }

    private void privateKey(int i) {
        if (at(i + 1) != '-' || at(i + 5) != 'B') {
            return;
        }
        int headerEnd = PemBlocks.headerEnd(s, i);
        if (headerEnd < 0 || !PemBlocks.isPrivateKeyHeader(s, i, headerEnd)) {
            return;
        }
        int end = PemBlocks.endLineEnd(s, i, headerEnd, nextEndMarker(headerEnd));
        if (end < 0) {
            end = PemBlocks.unterminatedBodyEnd(s, headerEnd);
        }
        add(DataClass.PRIVATE_KEY, i, end);
    }
}
