package dev.policygate.core.decision;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A hand-rolled property test: for random, schema-valid policy sets and random requests of every
 * action, the engine as shipped (sliced by action, resource and principal, slices whose policies all
 * compile evaluated in Java, decisions memoised) decides exactly as the reference engine that gives
 * Cedar every policy and remembers nothing. So does the same engine with every slice left to Cedar
 * (where prompt guards narrow what Cedar evaluates), and an engine with tiny budgets (one resource slice, three memo entries, two principal slices),
 * which keeps dropping and rebuilding what it remembers. Each set leaves the
 * context unread for some of invoke_model, use_tool and use_skill, and requests come again, alike
 * or with another context, so that remembered answers are compared too. Seeds are fixed, so a
 * failure names the seed that reproduces it.
 */
class CedarPolicyEngineDifferentialTest {
    private static final String SCHEMA = RepoPaths.schemaText();
    private static final int POLICY_SETS = 160;
    private static final int MIN_COMPARED_DECISIONS = 3_000;
    private static final int MIN_MEMOISED = 700;
    private static final int MIN_HITS = 50;
    /** Budgets so small that resource slices fall back, the memo forgets and principal slices are dropped. */
    private static final CedarPolicyEngine.Tuning TIGHT = new CedarPolicyEngine.Tuning(true, 1, 3, 2);

    private static final String NS = "Policygate::";
    private static final String[] GROUPS = {"g0", "g1", "g2", "approvers"};
    private static final String[] USERS = {"u0", "u1", "u2"};
    private static final String[] MODELS = {"m0", "m1"};
    private static final String[] TOOLS = {"t0", "t1"};
    private static final String[] SKILLS = {"k0", "k1"};
    private static final String[] DATA_CLASSES = {"EMAIL", "PHONE", "AWS_ACCESS_KEY"};
    private static final String[] SESSIONS = {"x0", "x1"};
    private static final String[] WORDS = {"w0", "w1", "w2", "w3", "w4", "w5"};
    private static final String[] DETECTIONS = {"pii:EMAIL", "secret:PRIVATE_KEY"};
    private static final String[] SOURCE_IPS = {"10.1.2.3", "192.0.2.1", "2001:db8::1"};
    private static final String[] OPERATIONS = {Contexts.OPERATION_MESSAGES, Contexts.OPERATION_COUNT_TOKENS,
            Contexts.OPERATION_LIST_MODELS};
    /** Addresses Cedar rejects (in Java or natively), and one it accepts that no base context uses. */
    private static final String[] ODD_IPS = {"010.1.2.3", "not-an-ip", "10.9.8.7"};
    /** The actions whose slices a policy set may keep free of context reads. */
    private static final Set<Action> MAY_BE_CONTEXT_FREE = EnumSet.of(Action.invoke_model, Action.use_tool,
            Action.use_skill);
    /** Requests per action and policy set; the memoisable actions get many, so that remembered answers are compared. */
    private static final Map<Action, Integer> REQUESTS_PER_ACTION = requestsPerAction();

    /** The context attributes each action's requests carry, per the schema. */
    private static final Map<Action, Set<String>> CONTEXT_ATTRIBUTES = contextAttributes();
    /** The resource types each action applies to, per the schema. */
    private static final Map<Action, List<String>> RESOURCE_TYPES = Map.of(
            Action.invoke_model, List.of("Model"),
            Action.use_tool, List.of("Tool", "McpServer"),
            Action.use_skill, List.of("Skill"),
            Action.read_unmasked, List.of("DataClass"),
            Action.approve, List.of("Session"),
            Action.read_session, List.of("Session"));

    /** A condition and the context attributes it reads, all of which every action in scope must carry. */
    private record Condition(Set<String> reads, Function<Random, String> source) {
    }

    private static final List<Condition> CONDITIONS = List.of(
            new Condition(Set.of(), r -> "principal in " + NS + "Group::\"" + pick(r, GROUPS) + "\""),
            new Condition(Set.of(), r -> "principal == " + NS + "User::\"" + pick(r, USERS) + "\""),
            // Raises an overflow error when the addend is 1: a forbid that cannot be evaluated.
            new Condition(Set.of(), r -> "9223372036854775807 + " + r.nextInt(2) + " > 0"),
            // Raises an error when a Session resource comes without its attributes.
            new Condition(Set.of(), r -> "resource is " + NS + "Session && resource.owner == principal"),
            new Condition(Set.of("max_tokens"), r -> "context.max_tokens > " + pick(r, "100", "1000", "8192")),
            // Raises an overflow error whenever max_tokens is 2 or more.
            new Condition(Set.of("max_tokens"), r -> "context.max_tokens * 4611686018427387904 > 0"),
            new Condition(Set.of("prompt"), r -> "context.prompt like \"*" + pick(r, WORDS) + "*\""),
            new Condition(Set.of("detections"), r -> "context.detections.contains(\"" + pick(r, DETECTIONS) + "\")"),
            new Condition(Set.of("approval"), r -> "context.approval.granted"),
            new Condition(Set.of("approval"),
                    r -> "context.approval has approver && context.approval.approver == \"" + pick(r, USERS) + "\""),
            new Condition(Set.of("stream"), r -> "context.stream"),
            new Condition(Set.of("source_ip"), r -> "context.source_ip.isInRange(ip(\"10.0.0.0/8\"))"),
            new Condition(Set.of("tools"), r -> "context.tools.contains(\"" + pick(r, TOOLS) + "\")"),
            new Condition(Set.of("operation"), r -> "context.operation == \"" + pick(r, OPERATIONS) + "\""),
            new Condition(Set.of("model"), r -> "context.model == \"" + pick(r, MODELS) + "\""),
            new Condition(Set.of("direction"), r -> "context.direction == \"" + pick(r, "prompt", "reply") + "\""),
            // Raises an overflow error for prompts only: errors on the memoised read_unmasked path.
            new Condition(Set.of("direction"),
                    r -> "if context.direction == \"prompt\" then 9223372036854775807 + 1 > 0 else true"),
            new Condition(Set.of("group"), r -> "principal in context.group"),
            // Shapes the compiled evaluator covers (CompiledPolicy), some of which it leaves to Cedar at run time.
            new Condition(Set.of(), r -> "principal in [" + NS + "Group::\"" + pick(r, GROUPS) + "\", " + NS
                    + "Group::\"" + pick(r, GROUPS) + "\"]"),
            new Condition(Set.of(), r -> "action in [" + NS + "Action::\"" + pick(r, Action.values()).name() + "\", "
                    + NS + "Action::\"" + pick(r, Action.values()).name() + "\"]"),
            new Condition(Set.of(), r -> "principal is " + NS + "User in " + NS + "Group::\"" + pick(r, GROUPS) + "\""),
            new Condition(Set.of(), r -> "{a: 1, b: \"x\"}" + pick(r, ".a == 1", ".b != \"x\"", " == {b: \"x\", a: 1}")),
            new Condition(Set.of(), r -> "[1, 2, 2].containsAll([" + pick(r, "1", "2, 1", "3") + "]) " + pick(r, "&&", "||")
                    + " [\"a\", \"b\"].isEmpty()"),
            new Condition(Set.of(), r -> "resource is " + NS + "Session && resource has owner && resource.status == \""
                    + pick(r, "PENDING_APPROVAL", "DONE") + "\""),
            new Condition(Set.of(), r -> "principal is " + NS + "User && principal has email && principal.email like \"*@*\""),
            new Condition(Set.of("max_tokens"), r -> "context.max_tokens - " + pick(r, "100", "1000") + " >= 0 && -context.max_tokens "
                    + pick(r, "<=", "<", "!=") + " -500"),
            new Condition(Set.of("max_tokens"), r -> "[0, 1, 500].contains(context.max_tokens)"),
            new Condition(Set.of("max_tokens", "stream"),
                    r -> "if context.stream then context.max_tokens > " + pick(r, "1", "1000") + " else context.max_tokens == 0"),
            new Condition(Set.of("detections"), r -> "context.detections." + pick(r, "containsAny", "containsAll")
                    + "([\"" + pick(r, DETECTIONS) + "\", \"" + pick(r, DETECTIONS) + "\"])"),
            new Condition(Set.of("detections"), r -> "context.detections.isEmpty()"),
            new Condition(Set.of("prompt"), r -> "context.prompt like \"" + pick(r, "", "*") + pick(r, WORDS) + "*"
                    + pick(r, WORDS) + pick(r, "", "*") + "\""),
            new Condition(Set.of("prompt"), r -> "context.prompt " + pick(r, "==", "!=") + " \"" + pick(r, WORDS) + "\""),
            new Condition(Set.of("approval"), r -> "context has approval && context.approval has approver"),
            // Left to Cedar at run time: an address compared, or put in a record that is compared.
            new Condition(Set.of("source_ip"), r -> pick(r, "context.source_ip == context.source_ip",
                    "{ip: context.source_ip} == {ip: context.source_ip}")),
            new Condition(Set.of("estimated_input_tokens"),
                    r -> "context.estimated_input_tokens * " + pick(r, "2", "4611686018427387904") + " > 1000"));

    @Test
    void decide_givesTheReferenceDecision_forRandomPoliciesAndRequestsOfEveryAction() {
        int generated = 0;
        int validSets = 0;
        int compared = 0;
        int memoised = 0;
        long guarded = 0;
        int hitsWithAnotherContext = 0;
        int contextRejectedOnContextFreeSlice = 0;
        Map<Action, Integer> hits = new EnumMap<>(Action.class);
        Map<Boolean, Integer> memoisableActionDecisionsByContextRead = new HashMap<>();
        Map<Outcome, Integer> outcomes = new EnumMap<>(Outcome.class);
        int withErrors = 0;
        int narrowedByPrincipal = 0;
        long compiledDecisions = 0;
        long cedarDecisionsOfFast = 0;
        // GIVEN a random policy set per seed, WHEN both engines answer the same random requests, THEN they agree
        for (long seed = 1; seed <= POLICY_SETS; seed++) {
            if (seed % 10 == 0) {
                // Engines free their slots in Cedar's bounded native cache only once collected.
                System.gc();
            }
            Random random = new Random(seed);
            Set<Action> contextFree = EnumSet.noneOf(Action.class);
            MAY_BE_CONTEXT_FREE.forEach(action -> {
                if (random.nextInt(3) == 0) {
                    contextFree.add(action);
                }
            });
            Map<String, String> files = randomPolicyFiles(random, contextFree);
            generated++;
            CedarPolicyEngine reference;
            try {
                reference = CedarPolicyEngine.fromSources(SCHEMA, files, CedarPolicyEngine.Tuning.REFERENCE);
            } catch (PolicyLoadException invalid) {
                continue;
            }
            CedarPolicyEngine fast = CedarPolicyEngine.fromSources(SCHEMA, files, CedarPolicyEngine.Tuning.FAST);
            CedarPolicyEngine tight = CedarPolicyEngine.fromSources(SCHEMA, files, TIGHT);
            CedarPolicyEngine nativeOnly = CedarPolicyEngine.fromSources(SCHEMA, files, CedarPolicyEngine.Tuning.NATIVE);
            validSets++;
            for (Action action : Action.values()) {
                List<AuthzRequest> asked = new ArrayList<>();
                for (int i = 0; i < REQUESTS_PER_ACTION.get(action); i++) {
                    // Half the questions come again: as they were, or with another context (masking, tool lists).
                    boolean again = !asked.isEmpty() && random.nextBoolean();
                    boolean anotherContext = again && random.nextBoolean();
                    AuthzRequest request = again ? asked.get(random.nextInt(asked.size()))
                            : randomRequest(random, action);
                    if (anotherContext) {
                        request = new AuthzRequest(request.principal(), request.principalParents(), action,
                                request.resource(), request.resourceAttributes(),
                                perturb(random, randomContext(random, action)));
                    }
                    asked.add(request);
                    Decision expected = reference.decide(request);
                    long hitsBefore = fast.memoHits();
                    Decision actual = fast.decide(request);
                    if (!comparable(actual).equals(comparable(expected))) {
                        fail("seed " + seed + ": decisions differ\nrequest:  " + request + "\nexpected: " + expected
                                + "\nactual:   " + actual + "\npolicies:\n" + String.join("\n", files.values()));
                    }
                    Decision tightDecision = tight.decide(request);
                    if (!comparable(tightDecision).equals(comparable(expected))) {
                        fail("seed " + seed + ": decisions differ with tight budgets\nrequest:  " + request
                                + "\nexpected: " + expected + "\nactual:   " + tightDecision + "\npolicies:\n"
                                + String.join("\n", files.values()));
                    }
                    Decision nativeDecision = nativeOnly.decide(request);
                    if (!comparable(nativeDecision).equals(comparable(expected))) {
                        fail("seed " + seed + ": decisions differ with every slice in Cedar\nrequest:  " + request
                                + "\nexpected: " + expected + "\nactual:   " + nativeDecision + "\npolicies:\n"
                                + String.join("\n", files.values()));
                    }
                    compared++;
                    if (fast.policyIdsFor(request).size() < fast.policyIdsFor(action, request.resource()).size()) {
                        narrowedByPrincipal++;
                    }
                    boolean contextRead = fast.contextReadFor(action, request.resource());
                    if (fast.memoHits() > hitsBefore) {
                        hits.merge(action, 1, Integer::sum);
                        hitsWithAnotherContext += anotherContext && !contextRead ? 1 : 0;
                    }
                    if (MAY_BE_CONTEXT_FREE.contains(action)) {
                        memoisableActionDecisionsByContextRead.merge(contextRead, 1, Integer::sum);
                    }
                    if (!contextRead && expected.errors().stream().anyMatch(e -> e.startsWith("policy engine:"))) {
                        contextRejectedOnContextFreeSlice++;
                    }
                    outcomes.merge(expected.outcome(), 1, Integer::sum);
                    withErrors += expected.errors().isEmpty() ? 0 : 1;
                }
            }
            memoised += fast.memoisedDecisions();
            guarded += nativeOnly.guardedEvaluations();
            compiledDecisions += fast.compiledDecisions();
            cedarDecisionsOfFast += fast.cedarCalls();
            assertThat(reference.compiledDecisions()).isZero();
            assertThat(nativeOnly.compiledDecisions()).isZero();
            assertThat(reference.guardedEvaluations()).isZero();
            assertThat(reference.memoisedDecisions()).isZero();
            assertThat(reference.memoHits()).isZero();
        }

        // THEN the comparison was not vacuous: most sets were valid, and every kind of answer occurred
        assertThat(validSets).as("valid policy sets of %d", generated).isGreaterThanOrEqualTo(generated * 9 / 10);
        assertThat(compared).isGreaterThanOrEqualTo(MIN_COMPARED_DECISIONS);
        assertThat(outcomes.getOrDefault(Outcome.ALLOW, 0)).as("ALLOW").isGreaterThanOrEqualTo(200);
        assertThat(outcomes.getOrDefault(Outcome.DENY, 0)).as("DENY").isGreaterThanOrEqualTo(200);
        assertThat(outcomes.getOrDefault(Outcome.APPROVAL, 0)).as("APPROVAL").isGreaterThanOrEqualTo(20);
        assertThat(withErrors).as("decisions with evaluation errors").isGreaterThanOrEqualTo(100);
        // AND most decisions were evaluated in Java, and Cedar still took those the compiled policies leave to it
        assertThat(compiledDecisions).as("decisions of compiled policies").isGreaterThanOrEqualTo(compared / 2);
        assertThat(cedarDecisionsOfFast).as("decisions left to Cedar").isGreaterThanOrEqualTo(300);
        // AND prompt guards left unmatched term policies out for many decisions (where Cedar evaluates)
        assertThat(guarded).as("decisions with unmatched prompt-guarded policies left out").isGreaterThanOrEqualTo(40);
        // AND principal slicing gave Cedar fewer policies than the action/resource slice for many requests
        assertThat(narrowedByPrincipal).as("decisions on a narrower principal slice").isGreaterThanOrEqualTo(1_000);
        // AND many answers came from memory, for every memoisable action, also for contexts never seen before
        assertThat(memoised).as("remembered decisions").isGreaterThanOrEqualTo(MIN_MEMOISED);
        for (Action action : List.of(Action.invoke_model, Action.use_tool, Action.use_skill, Action.read_unmasked)) {
            assertThat(hits.getOrDefault(action, 0)).as("memo hits for %s", action).isGreaterThanOrEqualTo(MIN_HITS);
        }
        assertThat(hitsWithAnotherContext).as("memo hits for a context unlike the remembered one")
                .isGreaterThanOrEqualTo(150);
        // AND both kinds of slice were asked, and contexts that Cedar rejects reached context-free slices
        assertThat(memoisableActionDecisionsByContextRead.getOrDefault(false, 0))
                .as("invoke_model/use_tool/use_skill decisions on context-free slices").isGreaterThanOrEqualTo(500);
        assertThat(memoisableActionDecisionsByContextRead.getOrDefault(true, 0))
                .as("invoke_model/use_tool/use_skill decisions on slices that read the context")
                .isGreaterThanOrEqualTo(500);
        assertThat(contextRejectedOnContextFreeSlice).as("rejected contexts on context-free slices")
                .isGreaterThanOrEqualTo(120);
    }

    /** What must match: the outcome, and the ids, messages, groups and errors as sets (their order is no contract). */
    private static List<Object> comparable(Decision decision) {
        return List.of(decision.outcome(), new TreeSet<>(decision.policyIds()), new TreeSet<>(decision.messages()),
                new TreeSet<>(decision.approvalGroups()), new TreeSet<>(decision.errors()));
    }

    // ---- policies --------------------------------------------------------------------------------

    private static Map<String, String> randomPolicyFiles(Random random, Set<Action> contextFree) {
        Map<String, String> files = new LinkedHashMap<>();
        int count = 3 + random.nextInt(13);
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < count; i++) {
            file.append(randomPolicy(random, "p" + i, contextFree)).append('\n');
            // Several files, so that ids and file order play their part as in production.
            if (random.nextInt(4) == 0) {
                files.put("f" + files.size() + ".cedar", file.toString());
                file.setLength(0);
            }
        }
        files.put("f" + files.size() + ".cedar", file.toString());
        return files;
    }

    /** A policy; it reads no context when it applies to a context-free action, bar some for one resource. */
    private static String randomPolicy(Random random, String id, Set<Action> contextFree) {
        Set<Action> actions = randomActionSet(random);
        // Principal and resource scopes fit one anchor action, or the validator calls the policy impossible.
        Action anchor = new ArrayList<>(actions).get(random.nextInt(actions.size()));
        boolean forbid = random.nextInt(5) < 3;
        String resourceScope = resourceScope(random, anchor);
        boolean oneResource = resourceScope.startsWith("resource ==");
        boolean mayReadContext = Collections.disjoint(actions, contextFree) || oneResource && random.nextInt(3) == 0;
        Set<String> readable = mayReadContext ? readableAttributes(actions) : Set.of();

        StringBuilder policy = new StringBuilder("@id(\"" + id + "\")\n");
        if (random.nextInt(2) == 0) {
            policy.append("@message(\"message of ").append(id).append("\")\n");
        }
        boolean approvable = forbid && random.nextInt(3) == 0;
        if (approvable) {
            policy.append("@approval(\"").append(pick(random, "approvers", "leads")).append("\")\n");
        }
        policy.append(forbid ? "forbid" : "permit").append(" (\n  ")
                .append(principalScope(random, anchor)).append(",\n  ")
                .append(actionScope(random, actions)).append(",\n  ")
                .append(resourceScope).append("\n)");
        if (readable.contains("prompt") && random.nextInt(3) == 0) {
            // a term policy: the prompt guard's shape (a first when clause that is a like on the prompt)
            policy.append("\nwhen { context.prompt like \"").append(pick(random, "*", "")).append(pick(random, WORDS))
                    .append(pick(random, "*", "* *", "")).append("\" }");
        }
        int whens = random.nextInt(3);
        for (int i = 0; i < whens; i++) {
            policy.append("\nwhen { ").append(randomCondition(random, readable)).append(" }");
        }
        if (approvable && readable.contains("approval") && random.nextInt(4) != 0) {
            policy.append("\nunless { context.approval.granted }");
        } else if (random.nextInt(5) == 0) {
            policy.append("\nunless { ").append(randomCondition(random, readable)).append(" }");
        }
        return policy.append(";").toString();
    }

    /** Every action (rendered as an unconstrained scope or as a full list), one, or a few. */
    private static Set<Action> randomActionSet(Random random) {
        int kind = random.nextInt(10);
        if (kind < 2) {
            return EnumSet.allOf(Action.class);
        }
        Set<Action> actions = EnumSet.of(pick(random, Action.values()));
        if (kind >= 7) {
            int more = 1 + random.nextInt(3);
            for (int i = 0; i < more; i++) {
                actions.add(pick(random, Action.values()));
            }
        }
        return actions;
    }

    private static String actionScope(Random random, Set<Action> actions) {
        if (actions.size() == Action.values().length && random.nextInt(3) != 0) {
            return "action";
        }
        List<String> uids = new ArrayList<>();
        actions.forEach(a -> uids.add(NS + "Action::\"" + a.name() + "\""));
        if (uids.size() == 1) {
            return (random.nextBoolean() ? "action == " : "action in ") + uids.get(0);
        }
        return "action in [" + String.join(", ", uids) + "]";
    }

    private static String principalScope(Random random, Action anchor) {
        return switch (random.nextInt(7)) {
            case 0, 1 -> "principal in " + NS + "Group::\"" + pick(random, GROUPS) + "\"";
            case 2 -> "principal == " + NS + "User::\"" + pick(random, USERS) + "\"";
            case 3 -> "principal is " + NS + (anchor == Action.read_unmasked && random.nextBoolean() ? "Model" : "User");
            case 4 -> pick(random, "principal is " + NS + "User in " + NS + "Group::\"" + pick(random, GROUPS) + "\"",
                    "principal in " + NS + "User::\"" + pick(random, USERS) + "\"",
                    anchor == Action.read_unmasked ? "principal == " + NS + "Model::\"" + pick(random, MODELS) + "\""
                            : "principal");
            default -> "principal";
        };
    }

    private static String resourceScope(Random random, Action anchor) {
        String type = pick(random, RESOURCE_TYPES.get(anchor).toArray(String[]::new));
        return switch (random.nextInt(5)) {
            case 0 -> "resource is " + NS + type;
            case 1 -> "resource == " + NS + type + "::\"" + pick(random, resourceIds(type)) + "\"";
            default -> "resource";
        };
    }

    private static String randomCondition(Random random, Set<String> readable) {
        List<Condition> usable = CONDITIONS.stream().filter(c -> readable.containsAll(c.reads())).toList();
        String first = pick(random, usable.toArray(Condition[]::new)).source().apply(random);
        if (random.nextInt(4) != 0) {
            return first;
        }
        String second = pick(random, usable.toArray(Condition[]::new)).source().apply(random);
        return "(" + first + ") " + pick(random, "&&", "||") + " (" + second + ")";
    }

    private static Set<String> readableAttributes(Set<Action> actions) {
        Set<String> readable = null;
        for (Action action : actions) {
            if (readable == null) {
                readable = new HashSet<>(CONTEXT_ATTRIBUTES.get(action));
            } else {
                readable.retainAll(CONTEXT_ATTRIBUTES.get(action));
            }
        }
        return readable;
    }

    // ---- requests --------------------------------------------------------------------------------

    private static AuthzRequest randomRequest(Random random, Action action) {
        EntityRef principal = action == Action.read_unmasked && random.nextBoolean()
                ? EntityRef.model(pick(random, MODELS)) : EntityRef.user(pick(random, USERS));
        Set<String> parents = new TreeSet<>();
        for (String group : GROUPS) {
            if (random.nextInt(3) == 0) {
                parents.add(group);
            }
        }
        String resourceType = pick(random, RESOURCE_TYPES.get(action).toArray(String[]::new));
        EntityRef resource = new EntityRef(resourceType, pick(random, resourceIds(resourceType)));
        Map<String, Object> resourceAttributes = Map.of();
        if (resourceType.equals("Session") && random.nextInt(6) != 0) {
            resourceAttributes = Map.of("owner", EntityRef.user(pick(random, USERS)), "status", "PENDING_APPROVAL");
        } else if (action == Action.read_unmasked && random.nextInt(20) == 0) {
            resourceAttributes = Map.of("label", "not memoised");
        }
        return new AuthzRequest(principal, parents, action, resource, resourceAttributes,
                perturb(random, randomContext(random, action)));
    }

    private static Map<String, Object> randomContext(Random random, Action action) {
        Set<String> detections = randomSubset(random, DETECTIONS);
        boolean granted = random.nextInt(3) == 0;
        String approver = random.nextBoolean() ? null : pick(random, USERS);
        String sourceIp = pick(random, SOURCE_IPS);
        return switch (action) {
            case invoke_model -> Contexts.invokeModel(randomPrompt(random), detections,
                    pick(random, 0L, 1L, 500L, 5_000L, 10_000L), random.nextBoolean(), random.nextInt(3_000), granted,
                    approver, sourceIp, pick(random, OPERATIONS), randomSubset(random, TOOLS),
                    randomSubset(random, SKILLS), Set.of());
            case use_tool, use_skill -> Contexts.useItem(pick(random, MODELS), detections, random.nextBoolean(),
                    granted, approver, sourceIp);
            case read_unmasked -> Contexts.readUnmasked(pick(random, Contexts.DIRECTION_PROMPT,
                    Contexts.DIRECTION_REPLY));
            case approve -> Contexts.approve(pick(random, GROUPS));
            case read_session -> Contexts.readSession();
        };
    }

    /**
     * Now and then a context that breaks the schema (a missing key, a wrong type, an extra key), that
     * Cedar rejects (a bad address, a reserved key, deep nesting), or that adds an entity.
     */
    private static Map<String, Object> perturb(Random random, Map<String, Object> context) {
        int kind = random.nextInt(30);
        if (kind > 6) {
            return context;
        }
        Map<String, Object> changed = new HashMap<>(context);
        List<String> keys = new ArrayList<>(new TreeSet<>(context.keySet()));
        switch (kind) {
            case 0 -> {
                if (!keys.isEmpty()) {
                    changed.remove(pick(random, keys.toArray(String[]::new)));
                }
            }
            case 1 -> changed.put(keys.isEmpty() ? "extra" : pick(random, keys.toArray(String[]::new)),
                    "not the declared type");
            case 2 -> changed.put("extra", 7L);
            case 3 -> changed.put(context.containsKey("source_ip") ? "source_ip" : "extra",
                    new IpAddress(pick(random, ODD_IPS)));
            case 4 -> changed.put(pick(random, "extra", "__extn"), Map.of(pick(random, "__entity", "__extn"), "x"));
            case 5 -> changed.put("extra", EntityRef.user(pick(random, USERS)));
            default -> {
                Object nested = "leaf";
                for (int depth = pick(random, 9, 200); depth > 0; depth--) {
                    nested = Map.of("k", nested);
                }
                changed.put("extra", nested);
            }
        }
        return changed;
    }

    private static String randomPrompt(Random random) {
        StringBuilder prompt = new StringBuilder();
        int words = random.nextInt(4);
        for (int i = 0; i < words; i++) {
            prompt.append(pick(random, WORDS)).append(' ');
        }
        return prompt.toString().trim();
    }

    private static Set<String> randomSubset(Random random, String[] values) {
        Set<String> subset = new TreeSet<>();
        for (String value : values) {
            if (random.nextInt(3) == 0) {
                subset.add(value);
            }
        }
        return subset;
    }

    private static String[] resourceIds(String type) {
        return switch (type) {
            case "Model" -> MODELS;
            case "Tool" -> TOOLS;
            case "McpServer" -> new String[]{"s0"};
            case "Skill" -> SKILLS;
            case "DataClass" -> DATA_CLASSES;
            case "Session" -> SESSIONS;
            default -> throw new IllegalArgumentException(type);
        };
    }

    @SafeVarargs
    private static <T> T pick(Random random, T... values) {
        return values[random.nextInt(values.length)];
    }

    private static Map<Action, Integer> requestsPerAction() {
        Map<Action, Integer> counts = new EnumMap<>(Action.class);
        counts.put(Action.invoke_model, 6);
        counts.put(Action.use_tool, 6);
        counts.put(Action.use_skill, 4);
        counts.put(Action.read_unmasked, 8);
        counts.put(Action.approve, 2);
        counts.put(Action.read_session, 2);
        return counts;
    }

    private static Map<Action, Set<String>> contextAttributes() {
        Set<String> useItem = Set.of("model", "detections", "stream", "approval", "source_ip");
        Map<Action, Set<String>> attributes = new EnumMap<>(Action.class);
        attributes.put(Action.invoke_model, Set.of("prompt", "detections", "max_tokens", "stream",
                "estimated_input_tokens", "approval", "source_ip", "operation", "tools", "skills", "mcp_servers"));
        attributes.put(Action.use_tool, useItem);
        attributes.put(Action.use_skill, useItem);
        attributes.put(Action.read_unmasked, Set.of("direction"));
        attributes.put(Action.approve, Set.of("group"));
        attributes.put(Action.read_session, Set.of());
        return attributes;
    }
}
