package dev.policygate.core.decision;

import java.util.Objects;

/**
 * A Cedar entity reference without the namespace, for example {@code EntityRef("User", "alice")}
 * for {@code Policygate::User::"alice"}.
 */
public record EntityRef(String type, String id) {
    public EntityRef {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
    }

    public static EntityRef user(String id) { return new EntityRef("User", id); }
    public static EntityRef group(String id) { return new EntityRef("Group", id); }
    public static EntityRef model(String id) { return new EntityRef("Model", id); }
    public static EntityRef tool(String id) { return new EntityRef("Tool", id); }
    public static EntityRef skill(String id) { return new EntityRef("Skill", id); }
    public static EntityRef mcpServer(String id) { return new EntityRef("McpServer", id); }
    public static EntityRef dataClass(String id) { return new EntityRef("DataClass", id); }
    public static EntityRef session(String id) { return new EntityRef("Session", id); }
}
