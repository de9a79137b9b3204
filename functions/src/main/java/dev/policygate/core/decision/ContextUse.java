package dev.policygate.core.decision;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.util.Set;

/**
 * Whether a policy's conditions can read the request context, from the policy's Cedar JSON form
 * (EST), where the only way to name the context is a {@code {"Var": "context"}} node.
 *
 * <p>Limits: fails safe. A {@code Var} naming anything but {@code principal}, {@code action} or
 * {@code resource}, a form that is not understood, and a text that cannot be read (none, or nested
 * deeper than the project's JSON limit) all count as reading the context. The scope is skipped: it
 * cannot name the context.
 */
final class ContextUse {
    private static final String CONDITIONS = "conditions";
    private static final String VAR = "Var";
    private static final Set<String> OTHER_VARIABLES = Set.of("principal", "action", "resource");

    private ContextUse() {
    }

    /** Whether the policy whose EST is {@code est} may read the context; true when {@code est} is null. */
    static boolean readsContext(String est) {
        if (est == null) {
            return true;
        }
        try (JsonParser parser = Json.mapper().createParser(est)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return true;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                if (CONDITIONS.equals(name)) {
                    if (conditionsRead(parser)) {
                        return true;
                    }
                } else {
                    parser.skipChildren();
                }
            }
            return parser.currentToken() != JsonToken.END_OBJECT;
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /** Scans the conditions the parser stands on, up to their end. */
    private static boolean conditionsRead(JsonParser parser) throws IOException {
        if (!parser.currentToken().isStructStart()) {
            return true;
        }
        for (int depth = 1; depth > 0; ) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                return true;
            } else if (token.isStructStart()) {
                depth++;
            } else if (token.isStructEnd()) {
                depth--;
            } else if (token == JsonToken.FIELD_NAME && VAR.equals(parser.currentName())
                    && (parser.nextToken() != JsonToken.VALUE_STRING || !OTHER_VARIABLES.contains(parser.getText()))) {
                return true;
            }
        }
        return false;
    }
}
