package dev.policygate.core.decision;

import dev.policygate.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@link PromptLike} decides a {@code like} exactly as Cedar does: random patterns (wildcards,
 * runs of wildcards, escaped stars and backslashes, non-ASCII and astral characters) against
 * random prompts built to match often, each compared with Cedar evaluating the same policy.
 */
class PromptLikeTest {
    private static final String[] PIECES = {"a", "b", "ab", "*", "**", "\\\\*", "\\\\\\\\", "é", "😀", " ", "x y"};

    @Test
    void matchesExactlyAsCedar_onRandomPatternsAndPrompts() throws Exception {
        String schema = Files.readString(Fixtures.root().resolve("cedar-policies/policygate.cedarschema"));
        Random random = new Random(20261125);
        int compared = 0;
        int matched = 0;
        for (int p = 0; p < 60; p++) {
            StringBuilder pattern = new StringBuilder();
            int len = random.nextInt(6);
            for (int i = 0; i < len; i++) {
                pattern.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String source = "@id(\"t\")\npermit (principal, action == Policygate::Action::\"invoke_model\", resource) "
                    + "when { context.prompt like \"" + pattern + "\" };";
            CedarPolicyEngine reference = CedarPolicyEngine.fromSources(schema, Map.of("t.cedar", source),
                    CedarPolicyEngine.Tuning.REFERENCE);
            PromptLike like = PromptLike.of(new com.cedarpolicy.model.policy.Policy(source, "t").toJson());
            assertThat(like).as(source).isNotNull();
            for (String prompt : prompts(random, pattern.toString())) {
                boolean cedar = reference.decide(request(prompt)).outcome() == Outcome.ALLOW;
                if (like.matches(prompt) != cedar) {
                    fail("pattern " + pattern + " on \"" + prompt + "\": cedar " + cedar + ", ours " + !cedar);
                }
                compared++;
                matched += cedar ? 1 : 0;
            }
        }
        assertThat(compared).isGreaterThanOrEqualTo(1_000);
        assertThat(matched).as("matches among the comparisons").isGreaterThanOrEqualTo(150);
    }

    @Test
    void onlyAFirstWhenClauseOnContextPrompt_isAGuard() {
        assertThat(guard("when { context.prompt like \"*x*\" } unless { context.approval.granted }")).isNotNull();
        assertThat(guard("when { context.stream } when { context.prompt like \"*x*\" }")).isNull();
        assertThat(guard("when { context.prompt like \"*x*\" && context.stream }")).isNull();
        assertThat(guard("unless { context.prompt like \"*x*\" }")).isNull();
        assertThat(guard("when { context.direction like \"*x*\" }")).isNull();
        assertThat(guard("")).isNull();
    }

    @Test
    void loneSurrogates_areNotDecidedHere() {
        assertThat(PromptLike.wellFormed("a😀b")).isTrue();
        assertThat(PromptLike.wellFormed("a\uD83Db")).isFalse();
        assertThat(PromptLike.wellFormed("\uDE00")).isFalse();
    }

    private static PromptLike guard(String conditions) {
        String source = "forbid (principal, action == Policygate::Action::\"invoke_model\", resource) " + conditions + ";";
        try {
            return PromptLike.of(com.cedarpolicy.model.policy.PolicySet.parsePolicies(source).policies.iterator().next()
                    .toJson());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Prompts likely to match: the pattern with its stars filled in, and edits of that. */
    private static List<String> prompts(Random random, String pattern) {
        List<String> out = new ArrayList<>();
        String unescaped = pattern.replace("\\\\*", "\u0001").replace("\\\\\\\\", "\u0002");
        for (int i = 0; i < 20; i++) {
            StringBuilder b = new StringBuilder();
            for (char c : unescaped.toCharArray()) {
                if (c == '*') {
                    int n = random.nextInt(3);
                    for (int k = 0; k < n; k++) {
                        b.append(PIECES[random.nextInt(PIECES.length)].replace("\\\\", ""));
                    }
                } else if (c == '\u0001') {
                    b.append('*');
                } else if (c == '\u0002') {
                    b.append('\\');
                } else {
                    b.append(c);
                }
            }
            String s = b.toString();
            switch (random.nextInt(4)) {
                case 0 -> s = s.isEmpty() ? "z" : s.substring(random.nextInt(s.length()));
                case 1 -> s = s + PIECES[random.nextInt(PIECES.length)];
                default -> { }
            }
            out.add(s);
        }
        return out;
    }

    private static AuthzRequest request(String prompt) {
        return new AuthzRequest(EntityRef.user("u"), Set.of(), Action.invoke_model, EntityRef.model("claude-x"), null,
                Contexts.invokeModel(prompt, Set.of(), 16L, false, 10, false, null, "10.0.0.1", "messages",
                        new TreeSet<>(), Set.of(), Set.of()));
    }
}
