package dev.policygate.core.decision;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One Cedar authorization question.
 *
 * @param principal          the principal entity ({@code User} or, for prompt masking, {@code Model})
 * @param principalParents   groups of the principal (each becomes a {@code Group} parent)
 * @param action             the action
 * @param resource           the resource entity
 * @param resourceAttributes attributes of the resource entity (values as for {@code context})
 * @param context            the context record. Values may be String, Long/Integer, Boolean,
 *                           {@link EntityRef}, {@link IpAddress}, Set/List of those, or a nested
 *                           Map&lt;String,Object&gt; (a record).
 */
public record AuthzRequest(EntityRef principal, Set<String> principalParents, Action action, EntityRef resource,
                           Map<String, Object> resourceAttributes, Map<String, Object> context) {
    public AuthzRequest {
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(resource, "resource");
        principalParents = principalParents == null ? Set.of() : Set.copyOf(principalParents);
        resourceAttributes = resourceAttributes == null ? Map.of() : resourceAttributes;
        context = context == null ? Map.of() : context;
    }
}
