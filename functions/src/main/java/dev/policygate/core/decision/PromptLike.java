package dev.policygate.core.decision;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;

import java.util.ArrayList;
import java.util.List;

/**
 * A policy whose first condition is {@code when { context.prompt like "<pattern>" }}, and that
 * pattern. Such a policy cannot be satisfied when the pattern does not match the prompt, and
 * Cedar short-circuits the rest of its conditions then (no error either), so the engine may
 * leave it out of what Cedar evaluates for that request: the decision is the same, and Cedar
 * is spared a {@code like} over the whole prompt per term policy, the biggest per-policy cost.
 *
 * <p>Matching is Cedar's {@code like}: the whole string, {@code *} any run of characters, the
 * rest literal, case-sensitive. It is decided here on well-formed UTF-16 only (the engine
 * evaluates everything otherwise), where matching UTF-16 units equals matching code points.
 */
final class PromptLike {
    /** The literal runs between wildcards. */
    private final List<String> segments;
    private final boolean anchoredStart;
    private final boolean anchoredEnd;

    private PromptLike(List<String> segments, boolean anchoredStart, boolean anchoredEnd) {
        this.segments = segments;
        this.anchoredStart = anchoredStart;
        this.anchoredEnd = anchoredEnd;
    }

    /** The guard of a policy given as Cedar JSON (EST), or null when its first condition is not such a like. */
    static PromptLike of(String est) {
        if (est == null) {
            return null;
        }
        try {
            return of(Json.mapper().readTree(est));
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** As {@link #of(String)}, from the EST already read; null for a null tree. */
    static PromptLike of(JsonNode root) {
        if (root == null) {
            return null;
        }
        try {
            JsonNode conditions = root.path("conditions");
            if (!conditions.isArray() || conditions.isEmpty()) {
                return null;
            }
            JsonNode first = conditions.get(0);
            if (!"when".equals(first.path("kind").asText()) || first.path("body").size() != 1) {
                return null;
            }
            JsonNode like = first.path("body").get("like");
            if (like == null) {
                return null;
            }
            JsonNode left = like.path("left");
            JsonNode dot = left.get(".");
            if (left.size() != 1 || dot == null || !"prompt".equals(dot.path("attr").asText(null))
                    || !"context".equals(dot.path("left").path("Var").asText(null)) || dot.size() != 2) {
                return null;
            }
            return ofPattern(like.path("pattern"));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * The matcher of a {@code like} pattern in Cedar JSON form (an array of {@code "Wildcard"} and
     * {@code {"Literal": "c"}}), or null when it is anything else or holds a lone surrogate.
     */
    static PromptLike ofPattern(JsonNode pattern) {
        if (pattern == null || !pattern.isArray()) {
            return null;
        }
        List<String> segments = new ArrayList<>();
        StringBuilder current = null;
        boolean anchoredStart = true;
        boolean anchoredEnd = true;
        int index = 0;
        for (JsonNode element : pattern) {
            if (element.isTextual() && element.asText().equals("Wildcard")) {
                if (index == 0) {
                    anchoredStart = false;
                }
                segments.add(current == null ? "" : current.toString());
                current = null;
                anchoredEnd = false;
            } else if (element.isObject() && element.size() == 1 && element.path("Literal").isTextual()) {
                current = current == null ? new StringBuilder() : current;
                current.append(element.get("Literal").asText());
                anchoredEnd = true;
            } else {
                return null;
            }
            index++;
        }
        segments.add(current == null ? "" : current.toString());
        for (String s : segments) {
            if (!wellFormed(s)) {
                return null;
            }
        }
        return new PromptLike(List.copyOf(segments), anchoredStart, anchoredEnd);
    }

    /**
     * Whether Cedar's like would match. Segments alternate with wildcards: the first must be a
     * prefix when anchored, the last a suffix when anchored, and the ones between occur in order;
     * taking each middle one at its leftmost place is exact for patterns with {@code *} only.
     */
    boolean matches(String s) {
        int n = segments.size();
        if (n == 1) {
            // no wildcard at all: the whole string
            return s.equals(segments.get(0));
        }
        String first = segments.get(0);
        String last = segments.get(n - 1);
        int from = 0;
        if (anchoredStart) {
            if (!s.startsWith(first)) {
                return false;
            }
            from = first.length();
        }
        int end = s.length();
        if (anchoredEnd) {
            if (s.length() - last.length() < from || !s.endsWith(last)) {
                return false;
            }
            end = s.length() - last.length();
        }
        int lo = anchoredStart ? 1 : 0;
        int hi = anchoredEnd ? n - 1 : n;
        for (int i = lo; i < hi; i++) {
            String seg = segments.get(i);
            if (seg.isEmpty()) {
                continue;
            }
            int at = s.indexOf(seg, from);
            if (at < 0 || at + seg.length() > end) {
                return false;
            }
            from = at + seg.length();
        }
        return true;
    }

    /** No lone surrogate (Cedar strings are Unicode scalar values). */
    static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
