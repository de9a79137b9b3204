package dev.policygate.core.detect;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A class of sensitive data, such as {@code EMAIL} or {@code AWS_ACCESS_KEY}. Built-in classes are
 * constants; custom classes come from configuration. The name is also the Cedar entity id of
 * {@code Policygate::DataClass}.
 */
public record DataClass(String name, Kind kind) {
    private static final Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");

    /** Whether the class is personal data or a credential. It prefixes the detection label. */
    public enum Kind { PII, SECRET }

    public static final DataClass EMAIL = new DataClass("EMAIL", Kind.PII);
    public static final DataClass PHONE = new DataClass("PHONE", Kind.PII);
    public static final DataClass CREDIT_CARD = new DataClass("CREDIT_CARD", Kind.PII);
    public static final DataClass US_SSN = new DataClass("US_SSN", Kind.PII);
    public static final DataClass IBAN = new DataClass("IBAN", Kind.PII);
    public static final DataClass IP_ADDRESS = new DataClass("IP_ADDRESS", Kind.PII);
    public static final DataClass AWS_ACCESS_KEY = new DataClass("AWS_ACCESS_KEY", Kind.SECRET);
    public static final DataClass AWS_SECRET_KEY = new DataClass("AWS_SECRET_KEY", Kind.SECRET);
    public static final DataClass API_KEY = new DataClass("API_KEY", Kind.SECRET);
    public static final DataClass JWT = new DataClass("JWT", Kind.SECRET);
    public static final DataClass PRIVATE_KEY = new DataClass("PRIVATE_KEY", Kind.SECRET);

    public DataClass {
        Objects.requireNonNull(kind, "kind");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("data class name must match [A-Z][A-Z0-9_]{0,63}: " + name);
        }
    }

    /** The label used in {@code context.detections}, for example {@code "pii:EMAIL"}. */
    public String label() {
        return (kind == Kind.PII ? "pii:" : "secret:") + name;
    }
}
