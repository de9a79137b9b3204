package dev.policygate.hardening;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Expands placeholders such as {@code {AWS_SECRET_KEY_3}} in corpus lines into fake credentials
 * of the real shape, so that the corpus files hold nothing a secret scanner would flag. Each
 * value is a pure function of its placeholder (a {@link Random} seeded with the placeholder's
 * name), so runs are reproducible and a placeholder expands identically wherever it appears.
 */
final class FakeSecrets {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Z][A-Z0-9_]*?)_(\\d+)}");
    private static final String UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final String BASE64 = ALNUM + "+/";
    private static final String URL_SAFE = ALNUM + "-_";
    private static final String DIGITS = "0123456789";
    private static final String[] AWS_PREFIXES = {"AKIA", "ASIA", "AROA", "AIDA", "AGPA"};

    private FakeSecrets() {
    }

    static String expand(String line) {
        Matcher m = PLACEHOLDER.matcher(line);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(value(m.group(1), Integer.parseInt(m.group(2)))));
        }
        m.appendTail(out);
        return out.toString();
    }

    static String value(String kind, int n) {
        Random r = new Random((kind + "_" + n).hashCode());
        return switch (kind) {
            case "AWS_ACCESS_KEY" -> AWS_PREFIXES[n % AWS_PREFIXES.length] + chars(r, UPPER_DIGITS, 16);
            case "AWS_SECRET_KEY" -> chars(r, BASE64, 40);
            case "ANTHROPIC_KEY" -> "sk-ant-api03-" + chars(r, URL_SAFE, 93) + "AA";
            case "OPENAI_KEY" -> "sk-proj-" + chars(r, URL_SAFE, 156);
            case "OPENAI_LEGACY_KEY" -> "sk-" + chars(r, ALNUM, 48);
            case "GITHUB_TOKEN" -> (n % 2 == 1 ? "ghp_" : "gho_") + chars(r, ALNUM, 36);
            case "GITHUB_PAT" -> "github_pat_" + chars(r, ALNUM, 22) + "_" + chars(r, ALNUM, 59);
            case "SLACK_TOKEN" -> "xoxb-" + chars(r, DIGITS, 12) + "-" + chars(r, DIGITS, 13) + "-"
                    + chars(r, ALNUM, 24);
            case "JWT" -> jwt(r, n);
            case "PEM_RSA" -> pem("RSA PRIVATE KEY", r, 900, "\n");
            case "PEM_EC" -> pem("EC PRIVATE KEY", r, 121, "\n");
            case "PEM_OPENSSH" -> pem("OPENSSH PRIVATE KEY", r, 400, "\n");
            case "PEM_PKCS8" -> pem("PRIVATE KEY", r, 1200, "\n");
            case "PEM_ENCRYPTED" -> pem("ENCRYPTED PRIVATE KEY", r, 700, "\n");
            case "PEM_DSA" -> pem("DSA PRIVATE KEY", r, 440, "\n");
            case "PEM_ONELINE" -> pem("PRIVATE KEY", r, 300, " ");
            case "PEM_JSONESC" -> pem("PRIVATE KEY", r, 600, "\\n");
            case "PEM_UNTERMINATED" -> {
                String full = pem("RSA PRIVATE KEY", r, 400, "\n");
                yield full.substring(0, full.lastIndexOf("\n-----END"));
            }
            case "PEM_PUBLIC" -> pem("PUBLIC KEY", r, 294, "\n");
            case "PEM_CERTIFICATE" -> pem("CERTIFICATE", r, 800, "\n");
            default -> throw new IllegalArgumentException("unknown corpus placeholder {" + kind + "_" + n + "}");
        };
    }

    private static String chars(Random r, String alphabet, int length) {
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            out.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return out.toString();
    }

    private static String jwt(Random r, int n) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        boolean unsigned = n % 10 == 0;
        String header = unsigned ? "{\"alg\":\"none\",\"typ\":\"JWT\"}"
                : n % 2 == 0 ? "{\"alg\":\"RS256\",\"kid\":\"key-" + n + "\",\"typ\":\"JWT\"}"
                : "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
        String payload = "{\"sub\":\"user-" + n + "\",\"name\":\"Test User " + n + "\",\"iat\":" + (1_700_000_000 + n)
                + ",\"exp\":" + (1_700_003_600 + n) + "}";
        byte[] signature = new byte[n % 2 == 0 ? 256 : 32];
        r.nextBytes(signature);
        return b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "."
                + (unsigned ? "" : b64.encodeToString(signature));
    }

    /** A PEM block of {@code bodyBytes} random bytes, lines of 64 characters joined by {@code newline}. */
    private static String pem(String label, Random r, int bodyBytes, String newline) {
        byte[] body = new byte[bodyBytes];
        r.nextBytes(body);
        String b64 = Base64.getEncoder().encodeToString(body);
        StringBuilder out = new StringBuilder("-----BEGIN ").append(label).append("-----");
        for (int i = 0; i < b64.length(); i += 64) {
            out.append(newline).append(b64, i, Math.min(b64.length(), i + 64));
        }
        return out.append(newline).append("-----END ").append(label).append("-----").toString();
    }
}
