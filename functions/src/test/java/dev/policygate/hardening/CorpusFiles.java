package dev.policygate.hardening;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the line-based corpora under {@code src/test/resources/corpus/}: one entry per line,
 * {@code #} comments and blank lines skipped, escapes expanded so that invisible characters can
 * be written visibly: backslash followed by {@code n}, {@code t}, {@code r}, a backslash,
 * {@code uXXXX} or {@code u{XXXXX}} (a code point in hex).
 */
final class CorpusFiles {
    private CorpusFiles() {
    }

    /** The entries of {@code corpus/<relative>}, escapes not yet expanded. */
    static List<String> rawLines(String relative) {
        String resource = "/corpus/" + relative;
        try (InputStream in = CorpusFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("corpus file missing from the test classpath: " + resource);
            }
            List<String> out = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1)) {
                String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
                if (!l.isBlank() && !l.startsWith("#")) {
                    out.add(l);
                }
            }
            return List.copyOf(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The entries of {@code corpus/<relative>}, escapes expanded. */
    static List<String> lines(String relative) {
        return rawLines(relative).stream().map(CorpusFiles::unescape).toList();
    }

    static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                out.append(c);
                continue;
            }
            char next = s.charAt(++i);
            switch (next) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case '\\' -> out.append('\\');
                case 'u' -> {
                    if (i + 1 < s.length() && s.charAt(i + 1) == '{') {
                        int close = s.indexOf('}', i);
                        out.appendCodePoint(Integer.parseInt(s.substring(i + 2, close), 16));
                        i = close;
                    } else {
                        out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + next + " in corpus line: " + s);
            }
        }
        return out.toString();
    }
}
