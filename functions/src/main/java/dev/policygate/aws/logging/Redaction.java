package dev.policygate.aws.logging;

import java.util.regex.Pattern;

/**
 * Last line of defence for log messages: masks anything shaped like a Policygate key, an Anthropic
 * key or a bearer credential. The code does not log secrets in the first place; this catches a
 * future mistake in a message. It does not see exception messages, which the code keeps free of
 * request content and credentials.
 */
final class Redaction {
    private static final Pattern SECRET = Pattern.compile(
            "pgk_[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|(?i:bearer)\\s+[A-Za-z0-9._~+/=-]{8,}");
    static final String MASK = "[REDACTED]";

    private Redaction() {
    }

    static String redact(String message) {
        if (message == null || message.isEmpty()) {
            return message;
        }
        return SECRET.matcher(message).replaceAll(MASK);
    }
}
