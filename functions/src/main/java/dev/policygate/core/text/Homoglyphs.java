package dev.policygate.core.text;

/**
 * Latin look-alikes from other scripts, folded to the lowercase Latin letter they imitate. A
 * hand-picked subset of UTS #39 {@code confusables.txt} (plus a few near-identical glyphs it
 * lists only as multi-step chains, such as Greek tau and upsilon). Only characters that survive
 * NFKD are listed: fullwidth, mathematical and circled letters are folded before we get here.
 */
final class Homoglyphs {
    private static final int BASE = 0x0250;
    private static final char[] TABLE = new char[0x0590 - BASE];

    static {
        // IPA and Latin extensions
        map(0x0251, 'a'); // ɑ latin alpha
        map(0x0261, 'g'); // ɡ script g
        map(0x0269, 'i'); // ɩ latin iota
        map(0x026A, 'i'); // ɪ small capital i
        map(0x0274, 'n'); // ɴ small capital n
        map(0x0299, 'b'); // ʙ small capital b
        map(0x029C, 'h'); // ʜ small capital h
        map(0x028F, 'y'); // ʏ small capital y
        map(0x0282, 's'); // ʂ

        // Greek capitals
        map(0x0391, 'a'); map(0x0392, 'b'); map(0x0395, 'e'); map(0x0396, 'z');
        map(0x0397, 'h'); map(0x0399, 'i'); map(0x039A, 'k'); map(0x039C, 'm');
        map(0x039D, 'n'); map(0x039F, 'o'); map(0x03A1, 'p'); map(0x03A4, 't');
        map(0x03A5, 'y'); map(0x03A7, 'x'); map(0x03D2, 'y'); map(0x03F9, 'c');
        map(0x037F, 'j');
        // Greek small
        map(0x03B1, 'a'); map(0x03B3, 'y'); map(0x03B9, 'i'); map(0x03BA, 'k');
        map(0x03BD, 'v'); map(0x03BF, 'o'); map(0x03C1, 'p'); map(0x03C4, 't');
        map(0x03C5, 'u'); map(0x03C7, 'x'); map(0x03F2, 'c'); map(0x03F3, 'j');
        map(0x03F1, 'p'); map(0x03F5, 'e');

        // Cyrillic capitals
        map(0x0405, 's'); map(0x0406, 'i'); map(0x0408, 'j'); map(0x0410, 'a');
        map(0x0412, 'b'); map(0x0415, 'e'); map(0x041A, 'k'); map(0x041C, 'm');
        map(0x041D, 'h'); map(0x041E, 'o'); map(0x0420, 'p'); map(0x0421, 'c');
        map(0x0422, 't'); map(0x0425, 'x'); map(0x04AE, 'y'); map(0x04C0, 'l');
        map(0x051A, 'q'); map(0x051C, 'w'); map(0x04BA, 'h'); map(0x0417, '3');
        // Cyrillic small
        map(0x0430, 'a'); map(0x0435, 'e'); map(0x043E, 'o'); map(0x0440, 'p');
        map(0x0441, 'c'); map(0x0443, 'y'); map(0x0445, 'x'); map(0x0455, 's');
        map(0x0456, 'i'); map(0x0458, 'j'); map(0x04BB, 'h'); map(0x0501, 'd');
        map(0x051B, 'q'); map(0x051D, 'w'); map(0x04CF, 'l'); map(0x04AF, 'y');
        map(0x0475, 'v'); map(0x0461, 'w'); map(0x050D, 'g');

        // Armenian
        map(0x0570, 'h'); map(0x0578, 'n'); map(0x057D, 'u'); map(0x0585, 'o');
        map(0x0566, 'q'); map(0x0581, 'g'); map(0x0555, 'o'); map(0x054D, 'u');
    }

    private Homoglyphs() {
    }

    private static void map(int cp, char latin) {
        TABLE[cp - BASE] = latin;
    }

    /** The Latin letter {@code cp} imitates, or -1 when it is not a known look-alike. */
    static int fold(int cp) {
        if (cp < BASE || cp >= BASE + TABLE.length) {
            return switch (cp) {
                case 0x0131 -> 'i'; // dotless i
                case 0x0237 -> 'j'; // dotless j
                case 0x01C0 -> 'l'; // dental click
                default -> -1;
            };
        }
        char c = TABLE[cp - BASE];
        return c == 0 ? -1 : c;
    }
}
