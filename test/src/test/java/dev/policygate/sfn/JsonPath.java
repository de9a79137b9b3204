package dev.policygate.sfn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSONPath subset the emulator understands: {@code $} or {@code $$} followed by {@code .field},
 * {@code ['field']} and {@code [index]} segments. Wildcards, {@code ..}, filters, slices and
 * intrinsic functions are refused at parse time, so a definition that uses them never starts.
 */
final class JsonPath {
    private static final Pattern SEGMENT = Pattern.compile("\\.([^.\\[\\]'\"*@?()\\s]+)|\\['([^']*)'\\]|\\[(\\d+)\\]");

    private final String text;
    private final boolean context;
    private final List<Object> segments;

    private JsonPath(String text, boolean context, List<Object> segments) {
        this.text = text;
        this.context = context;
        this.segments = segments;
    }

    /** Parses a path, throwing IllegalArgumentException that names what is unsupported. */
    static JsonPath parse(String text) {
        if (text != null && text.startsWith("States.")) {
            throw new IllegalArgumentException("intrinsic functions are not supported: '" + text + "'");
        }
        if (text == null || !text.startsWith("$")) {
            throw new IllegalArgumentException("'" + text + "' is not a JSONPath (it must start with $)");
        }
        boolean context = text.startsWith("$$");
        int pos = context ? 2 : 1;
        List<Object> segments = new ArrayList<>();
        Matcher m = SEGMENT.matcher(text);
        while (pos < text.length()) {
            if (!m.find(pos) || m.start() != pos) {
                throw new IllegalArgumentException("unsupported JSONPath '" + text + "' (only $.field, ['field'] and [index]"
                        + " segments are supported; no wildcards, '..', filters or slices)");
            }
            if (m.group(1) != null) {
                segments.add(m.group(1));
            } else if (m.group(2) != null) {
                segments.add(m.group(2));
            } else {
                segments.add(Integer.valueOf(m.group(3)));
            }
            pos = m.end();
        }
        return new JsonPath(text, context, List.copyOf(segments));
    }

    /** True for $$ paths, which read the context object rather than the state input. */
    boolean isContext() {
        return context;
    }

    /** True when every segment is a field name, as ResultPath requires. */
    boolean isFieldsOnly() {
        return segments.stream().allMatch(s -> s instanceof String);
    }

    /** The node at this path, or empty when any segment is missing. */
    Optional<JsonNode> read(JsonNode root) {
        JsonNode node = root;
        for (Object segment : segments) {
            if (node == null) {
                return Optional.empty();
            }
            if (segment instanceof String field) {
                node = node.isObject() ? node.get(field) : null;
            } else {
                int index = (Integer) segment;
                node = node.isArray() && index < node.size() ? node.get(index) : null;
            }
        }
        return Optional.ofNullable(node);
    }

    /**
     * A copy of {@code root} with {@code value} placed at this path, creating objects on the way.
     * Fails (IllegalStateException) when a segment on the way exists and is not an object.
     */
    JsonNode write(JsonNode root, JsonNode value) {
        if (segments.isEmpty()) {
            return value;
        }
        if (!root.isObject()) {
            throw new IllegalStateException("cannot apply ResultPath '" + text + "' to a non-object input");
        }
        ObjectNode copy = ((ObjectNode) root).deepCopy();
        ObjectNode parent = copy;
        for (int i = 0; i < segments.size() - 1; i++) {
            String field = (String) segments.get(i);
            JsonNode child = parent.get(field);
            if (child == null || child.isNull()) {
                child = parent.putObject(field);
            } else if (!child.isObject()) {
                throw new IllegalStateException("cannot apply ResultPath '" + text + "': '" + field + "' is not an object");
            }
            parent = (ObjectNode) child;
        }
        parent.set((String) segments.get(segments.size() - 1), value);
        return copy;
    }

    @Override
    public String toString() {
        return text;
    }
}
