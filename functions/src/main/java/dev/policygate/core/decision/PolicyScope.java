package dev.policygate.core.decision;

import com.cedarpolicy.value.EntityTypeName;
import com.cedarpolicy.value.EntityUID;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a policy's scope tells about the requests it can match, read from the policy's Cedar JSON
 * form (EST): the actions, the one resource when the scope is {@code resource == E}, and the one
 * entity that the principal must be or descend from when the scope is {@code principal == E},
 * {@code principal in E} or {@code principal is T in E}.
 *
 * <p>Limits: only {@code action}, {@code action == A}, {@code action in A} and
 * {@code action in [A, ...]} over this namespace's {@link Action}s are understood; anything else
 * (an unknown form, an entity of another type, an action id that is not an {@link Action}, such as
 * an action group) yields every action. Only {@code resource == E} yields a resource; every other
 * resource scope yields none (any resource). So a policy is never left out of a slice that it
 * might affect. {@code action in A} is read as {@code action == A}: the gateway never sends action
 * entities, so an action has no ancestors at decision time. Likewise only those three principal
 * forms yield an entity; {@code principal}, {@code principal is T} and anything not understood
 * yield none (any principal).
 *
 * @param actions   the actions the scope can match
 * @param resource  the only resource the scope can match, or null when it can match many
 * @param principal the entity that a matching principal is or has as an ancestor, or null when any
 *                  principal may match
 */
record PolicyScope(Set<Action> actions, EntityUID resource, EntityUID principal) {
    private static final String ACTION_TYPE = CedarPolicyEngine.NAMESPACE + "::Action";
    private static final Set<Action> EVERY_ACTION = Collections.unmodifiableSet(EnumSet.allOf(Action.class));
    /** Every action, any resource: what a policy gets when slicing is off or its scope is not understood. */
    static final PolicyScope ANY = new PolicyScope(EVERY_ACTION, null, null);

    /** The scope of the policy whose EST is {@code est}; every action and any resource when not understood. */
    static PolicyScope of(String est) {
        if (est == null) {
            return ANY;
        }
        try {
            Map<String, JsonNode> scope = scopeMembers(est);
            JsonNode action = scope.get("action");
            JsonNode resource = scope.get("resource");
            JsonNode principal = scope.get("principal");
            return new PolicyScope(action == null ? EVERY_ACTION : actions(action),
                    resource == null ? null : resource(resource), principal == null ? null : principal(principal));
        } catch (Exception e) {
            // Not understood is not an error: the policy simply joins every slice.
            return ANY;
        }
    }

    /**
     * Reads only the top-level {@code principal}, {@code action} and {@code resource} members. They come before
     * {@code conditions}, so a deeply nested condition never reaches the mapper's nesting limit.
     */
    private static Map<String, JsonNode> scopeMembers(String est) throws IOException {
        Map<String, JsonNode> members = new HashMap<>();
        try (JsonParser parser = Json.mapper().createParser(est)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return members;
            }
            while (members.size() < 3 && parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                if ("principal".equals(name) || "action".equals(name) || "resource".equals(name)) {
                    // Stops inside the document, so what follows must not count as trailing tokens.
                    members.put(name, Json.mapper().reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                            .readTree(parser));
                } else {
                    parser.skipChildren();
                }
            }
        }
        return members;
    }

    /** The actions an action scope can match; every action when it is not understood. */
    static Set<Action> actions(JsonNode scope) {
        switch (scope.path("op").asText("")) {
            case "All":
                return EVERY_ACTION;
            case "==":
                return action(scope.get("entity"));
            case "in":
                if (scope.has("entity")) {
                    return action(scope.get("entity"));
                }
                JsonNode entities = scope.get("entities");
                if (entities == null || !entities.isArray()) {
                    return EVERY_ACTION;
                }
                Set<Action> actions = EnumSet.noneOf(Action.class);
                for (JsonNode entity : entities) {
                    Set<Action> one = action(entity);
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

    /** The one resource a resource scope can match, or null when it is not {@code resource == E}. */
    static EntityUID resource(JsonNode scope) {
        if (!"==".equals(scope.path("op").asText("")) || scope.get("entity") == null) {
            return null;
        }
        return entity(scope.get("entity"));
    }

    /** The entity an EST entity reference names, or null when it is not a plain reference. */
    private static EntityUID entity(JsonNode entity) {
        JsonNode ref = reference(entity);
        JsonNode type = ref.get("type");
        JsonNode id = ref.get("id");
        if (type == null || id == null || !type.isTextual() || !id.isTextual()) {
            return null;
        }
        return EntityTypeName.parse(type.asText()).map(t -> t.of(id.asText())).orElse(null);
    }

    /**
     * The entity that a principal scope requires the principal to be or to descend from, or null
     * when the scope allows any principal: {@code == E} and {@code in E} (a principal is {@code in}
     * itself), and {@code is T in E}, whose type test only narrows further.
     */
    static EntityUID principal(JsonNode scope) {
        String op = scope.path("op").asText("");
        JsonNode entity;
        if ("==".equals(op) || "in".equals(op)) {
            entity = scope.get("entity");
        } else if ("is".equals(op) && scope.has("in")) {
            entity = scope.get("in").get("entity");
        } else {
            return null;
        }
        return entity == null ? null : entity(entity);
    }

    /** One known action, or every action when the reference is not one. */
    private static Set<Action> action(JsonNode entity) {
        if (entity == null) {
            return EVERY_ACTION;
        }
        JsonNode ref = reference(entity);
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

    /** An entity reference in either EST form: {@code {type, id}} or {@code {"__entity": {type, id}}}. */
    private static JsonNode reference(JsonNode entity) {
        return entity.has("__entity") ? entity.get("__entity") : entity;
    }
}
