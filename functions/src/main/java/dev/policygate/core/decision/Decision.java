package dev.policygate.core.decision;

import java.util.List;
import java.util.Set;

/**
 * The answer to an {@link AuthzRequest}.
 *
 * @param outcome        allow, deny, or approval (deny that a human may lift)
 * @param policyIds      the ids of the deciding policies (the permits on ALLOW, the forbids on
 *                       DENY/APPROVAL; empty on default-deny)
 * @param messages       the {@code @message} annotations of the deciding forbids
 * @param approvalGroups the {@code @approval} groups when the outcome is APPROVAL
 * @param errors         evaluation errors (policy id: message); never shown to callers
 */
public record Decision(Outcome outcome, List<String> policyIds, List<String> messages, Set<String> approvalGroups,
                       List<String> errors) {
    public Decision {
        policyIds = List.copyOf(policyIds);
        messages = List.copyOf(messages);
        approvalGroups = Set.copyOf(approvalGroups);
        errors = List.copyOf(errors);
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOW;
    }
}
