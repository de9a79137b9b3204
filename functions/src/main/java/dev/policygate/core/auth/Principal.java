package dev.policygate.core.auth;

import java.util.Objects;
import java.util.Set;

/**
 * An authenticated caller. Never holds a token or key: only what may be recorded.
 *
 * @param id      the principal id ({@code User::"<id>"} in Cedar): the JWT subject or the key's principal
 * @param groups  groups ({@code Group::"<g>"} parents)
 * @param email   email, if known (may be null)
 * @param issuer  the JWT issuer, or {@code "policygate:key"} for gateway keys
 * @param keyId   the gateway key id (not the key) for key principals, else null
 * @param method  how the caller authenticated
 */
public record Principal(String id, Set<String> groups, String email, String issuer, String keyId, Method method) {
    /** How the caller authenticated. */
    public enum Method { JWT, API_KEY }

    public Principal {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(method, "method");
        groups = groups == null ? Set.of() : Set.copyOf(groups);
    }
}
