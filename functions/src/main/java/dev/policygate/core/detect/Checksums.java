package dev.policygate.core.detect;

import java.util.Map;

/** The arithmetic checks that turn digit-shaped candidates into findings. */
final class Checksums {
    private Checksums() {
    }

    /** IBAN lengths per ISO 13616 registry, for the countries we see most; others get 15..34. */
    private static final Map<String, Integer> IBAN_LENGTHS = Map.ofEntries(
            Map.entry("AD", 24), Map.entry("AE", 23), Map.entry("AL", 28), Map.entry("AT", 20),
            Map.entry("AZ", 28), Map.entry("BA", 20), Map.entry("BE", 16), Map.entry("BG", 22),
            Map.entry("BH", 22), Map.entry("BR", 29), Map.entry("CH", 21), Map.entry("CR", 22),
            Map.entry("CY", 28), Map.entry("CZ", 24), Map.entry("DE", 22), Map.entry("DK", 18),
            Map.entry("DO", 28), Map.entry("EE", 20), Map.entry("EG", 29), Map.entry("ES", 24),
            Map.entry("FI", 18), Map.entry("FO", 18), Map.entry("FR", 27), Map.entry("GB", 22),
            Map.entry("GE", 22), Map.entry("GI", 23), Map.entry("GL", 18), Map.entry("GR", 27),
            Map.entry("GT", 28), Map.entry("HR", 21), Map.entry("HU", 28), Map.entry("IE", 22),
            Map.entry("IL", 23), Map.entry("IS", 26), Map.entry("IT", 27), Map.entry("JO", 30),
            Map.entry("KW", 30), Map.entry("KZ", 20), Map.entry("LB", 28), Map.entry("LI", 21),
            Map.entry("LT", 20), Map.entry("LU", 20), Map.entry("LV", 21), Map.entry("MC", 27),
            Map.entry("MD", 24), Map.entry("ME", 22), Map.entry("MK", 19), Map.entry("MR", 27),
            Map.entry("MT", 31), Map.entry("MU", 30), Map.entry("NL", 18), Map.entry("NO", 15),
            Map.entry("PK", 24), Map.entry("PL", 28), Map.entry("PS", 29), Map.entry("PT", 25),
            Map.entry("QA", 29), Map.entry("RO", 24), Map.entry("RS", 22), Map.entry("SA", 24),
            Map.entry("SE", 24), Map.entry("SI", 19), Map.entry("SK", 24), Map.entry("SM", 27),
            Map.entry("TN", 24), Map.entry("TR", 26), Map.entry("UA", 29), Map.entry("VG", 24),
            Map.entry("XK", 20));

    /** Luhn over the digits of {@code s[from, to)}, skipping separators. */
    static boolean luhn(CharSequence s, int from, int to) {
        int sum = 0;
        boolean doubleIt = false;
        for (int i = to - 1; i >= from; i--) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                continue;
            }
            int d = c - '0';
            if (doubleIt) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            doubleIt = !doubleIt;
        }
        return sum % 10 == 0;
    }

    /**
     * Whether the leading digits belong to a card scheme that issues {@code length}-digit numbers.
     * Keeps Luhn's one-in-ten false positives off arbitrary long numbers.
     */
    static boolean plausibleCardPrefix(String digits, int length) {
        int d1 = digits.charAt(0) - '0';
        int d2 = Integer.parseInt(digits.substring(0, 2));
        int d4 = Integer.parseInt(digits.substring(0, 4));
        switch (d1) {
            case 4:
                return length == 13 || length == 16 || length == 19;
            case 5:
                return (d2 >= 51 && d2 <= 55) ? length == 16 : length >= 13; // Maestro 50, 56-59
            case 2:
                return d4 >= 2221 && d4 <= 2720 && length == 16;
            case 3:
                if (d2 == 34 || d2 == 37) {
                    return length == 15;
                }
                if (d2 == 36 || d2 == 38 || d2 == 39 || (d4 >= 3000 && d4 <= 3059)) {
                    return length >= 14 && length <= 19;
                }
                return d4 >= 3528 && d4 <= 3589 && length >= 16;
            case 6:
                return length >= 13; // Discover, UnionPay, Maestro, RuPay
            default:
                return false;
        }
    }

    /** The expected length of an IBAN for this country, or 0 when we do not know it. */
    static int ibanLength(String country) {
        Integer len = IBAN_LENGTHS.get(country);
        return len == null ? 0 : len;
    }

    /** ISO 7064 mod 97-10 over the alphanumerics of {@code s[from, to)}, spaces skipped. */
    static boolean ibanChecksumValid(CharSequence s, int from, int to) {
        int rem = 0;
        int count = 0;
        // the first four characters (country + check digits) are moved to the end
        int[] head = new int[4];
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == ' ') {
                continue;
            }
            if (count < 4) {
                head[count++] = c;
                continue;
            }
            rem = ibanStep(rem, c);
            count++;
        }
        for (int c : head) {
            rem = ibanStep(rem, (char) c);
        }
        return rem == 1;
    }

    private static int ibanStep(int rem, char c) {
        if (c >= '0' && c <= '9') {
            return (rem * 10 + (c - '0')) % 97;
        }
        int v = c - 'A' + 10;
        return (rem * 100 + v) % 97;
    }
}
