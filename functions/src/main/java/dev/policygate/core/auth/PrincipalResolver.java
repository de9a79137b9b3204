package dev.policygate.core.auth;

import java.util.Map;

/**
 * Port: turns the credential headers of a request into a {@link Principal}.
 */
public interface PrincipalResolver {
    /**
     * @param headers request headers, names lower-cased
     * @throws AuthenticationException when there is no valid credential
     */
    Principal authenticate(Map<String, String> headers) throws AuthenticationException;
}
