package dev.policygate.core.decision;

import com.cedarpolicy.model.policy.Policy;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The actions whose requests a policy's action scope can match, read from the policy's Cedar JSON
 * form (EST).
 *
 * <p>Limits: only {@code action}, {@code action == A}, {@code action in A} and
 * {@code action in [A, ...]} over this namespace's {@link Action}s are understood. Anything else
 * (an unknown scope form, an entity of another type, an action id that is not an {@link Action},
 * such as an action group) yields every action, so a policy is never dropped from a slice that it
 * might affect. {@code action in A} is read as {@code action == A}: the gateway never sends action
 * entities, so an action has no ancestors at decision time.
 */
final class ActionScope {
    private static final String ACTION_TYPE = CedarPolicyEngine.NAMESPACE + "::Action";
    private static final Set<Action> EVERY_ACTION = Collections.unmodifiableSet(EnumSet.allOf(Action.class));

    private ActionScope() {
    }

    /** The actions that {@code policy}'s scope can match; every action when the scope is not understood. */
    static Set<Action> of(Policy policy) {
        try {
            JsonNode scope = actionField(policy.toJson());
            return scope == null ? EVERY_ACTION : fromScope(scope);
        } catch (Exception e) {
            // Not understood is not an error: the policy simply joins every slice.
            return EVERY_ACTION;
        }
    }

    /**
     * Reads only the top-level {@code action} member. It comes before {@code conditions}, so a
     * deeply nested condition never reaches the mapper's nesting limit.
     */
    private static JsonNode actionField(String est) throws java.io.IOException {
        try (JsonParser parser = Json.mapper().createParser(est)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                if ("action".equals(name)) {
                    // Stops inside the document, so what follows must not count as trailing tokens.
                    return Json.mapper().reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                            .readTree(parser);
                }
                parser.skipChildren();
            }
            return null;
        }
    }

    static Set<Action> fromScope(JsonNode scope) {
        String op = scope.path("op").asText("");
        switch (op) {
            case "All":
                return EVERY_ACTION;
            case "==":
                return single(scope.get("entity"));
            case "in":
                if (scope.has("entity")) {
                    return single(scope.get("entity"));
                }
                JsonNode entities = scope.get("entities");
                if (entities == null || !entities.isArray()) {
                    return EVERY_ACTION;
                }
                Set<Action> actions = EnumSet.noneOf(Action.class);
                for (JsonNode entity : entities) {
                    Set<Action> one = single(entity);
                    if (one.size() != 1) {
                        return EVERY_ACTION;
                    }
                    actions.addAll(one);
                }
                return Collections.unmodifiableSet(actions);
            default:
                return EVERY_ACTION;
        }
    }

    /** One known action, or every action when the reference is not one. */
    private static Set<Action> single(JsonNode entity) {
        if (entity == null) {
            return EVERY_ACTION;
        }
        JsonNode ref = entity.has("__entity") ? entity.get("__entity") : entity;
        JsonNode type = ref.get("type");
        JsonNode id = ref.get("id");
        if (type == null || id == null || !type.isTextual() || !id.isTextual()
                || !ACTION_TYPE.equals(type.asText())) {
            return EVERY_ACTION;
        }
        for (Action action : Action.values()) {
            if (action.name().equals(id.asText())) {
                return Set.of(action);
            }
        }
        return EVERY_ACTION;
    }
}
