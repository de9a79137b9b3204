package dev.policygate.core.gateway;

import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.Decision;
import dev.policygate.core.decision.EntityRef;
import dev.policygate.core.decision.Outcome;
import dev.policygate.core.decision.PolicyEngine;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides one Messages request: {@code invoke_model} on the model, then {@code use_tool} per
 * tool and MCP server and {@code use_skill} per skill, combined so that any deny wins, then any
 * approval. The gateway and policy replay both use it, so a replay decides exactly as the
 * gateway would have.
 */
public final class RequestDecider {
    private final PolicyEngine policies;

    public RequestDecider(PolicyEngine policies) {
        this.policies = policies;
    }

    public Decision decide(String principalId, Set<String> groups, AnalysedRequest a, Set<String> detections,
                           String sourceIp, String operation, boolean approvalGranted, String approver) {
        EntityRef user = EntityRef.user(principalId);
        List<Decision> all = new ArrayList<>();
        all.add(policies.decide(new AuthzRequest(user, groups, Action.invoke_model, EntityRef.model(a.model()),
                null, Contexts.invokeModel(a.normalisedPrompt(), detections, a.maxTokens(), a.stream(),
                a.estimatedInputTokens(), approvalGranted, approver, sourceIp, operation,
                new TreeSet<>(a.tools()), new TreeSet<>(a.skills()), new TreeSet<>(a.mcpServers())))));
        Map<String, Object> itemContext = Contexts.useItem(a.model(), detections, a.stream(), approvalGranted,
                approver, sourceIp);
        for (String tool : a.tools()) {
            all.add(policies.decide(new AuthzRequest(user, groups, Action.use_tool, EntityRef.tool(tool), null,
                    itemContext)));
        }
        for (String server : a.mcpServers()) {
            all.add(policies.decide(new AuthzRequest(user, groups, Action.use_tool, EntityRef.mcpServer(server),
                    null, itemContext)));
        }
        for (String skill : a.skills()) {
            all.add(policies.decide(new AuthzRequest(user, groups, Action.use_skill, EntityRef.skill(skill), null,
                    itemContext)));
        }
        return combine(all);
    }

    /** Any deny wins; else any approval (groups united); else allow. */
    public static Decision combine(List<Decision> decisions) {
        Outcome outcome = Outcome.ALLOW;
        for (Decision d : decisions) {
            if (d.outcome() == Outcome.DENY) {
                outcome = Outcome.DENY;
                break;
            }
            if (d.outcome() == Outcome.APPROVAL) {
                outcome = Outcome.APPROVAL;
            }
        }
        Set<String> ids = new LinkedHashSet<>();
        Set<String> messages = new LinkedHashSet<>();
        Set<String> groups = new TreeSet<>();
        List<String> errors = new ArrayList<>();
        for (Decision d : decisions) {
            if (d.outcome() == outcome) {
                ids.addAll(d.policyIds());
                messages.addAll(d.messages());
                groups.addAll(d.approvalGroups());
            }
            errors.addAll(d.errors());
        }
        return new Decision(outcome, List.copyOf(ids), List.copyOf(messages),
                outcome == Outcome.APPROVAL ? groups : Set.of(), errors);
    }
}
