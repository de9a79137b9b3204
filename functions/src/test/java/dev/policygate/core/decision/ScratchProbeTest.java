package dev.policygate.core.decision;

import org.junit.jupiter.api.Test;
import java.util.*;

class ScratchProbeTest {
    @Test
    void probe() {
        CedarPolicyEngine e = CedarPolicyEngine.fromSources(RepoPaths.schemaText(), Map.of("a.cedar",
            "@id(\"p\") permit(principal, action, resource);\n@id(\"h\") forbid(principal, action == Policygate::Action::\"approve\", resource) when { Policygate::User::\"zz\" has email };"),
            CedarPolicyEngine.Tuning.REFERENCE);
        Map<String, Map<String, Object>> cases = new LinkedHashMap<>();
        cases.put("hetero set", Map.of("x", List.of(1L, "a", true)));
        cases.put("__entity key", Map.of("x", Map.of("__entity", "a")));
        cases.put("__extn key", Map.of("x", Map.of("__extn", "a")));
        cases.put("__other key", Map.of("__foo", "a"));
        cases.put("empty key", Map.of("", "a"));
        cases.put("bad ip", Map.of("x", new IpAddress("not-an-ip")));
        cases.put("ip leading zero", Map.of("x", new IpAddress("010.1.2.3")));
        cases.put("lone surrogate", Map.of("x", "a\ud800b"));
        cases.put("emoji", Map.of("x", "a\ud83d\ude00b"));
        cases.put("nul", Map.of("x", "a\u0000b"));
        Object deep = "v";
        for (int i = 0; i < 200; i++) deep = Map.of("k", deep);
        cases.put("deep200", Map.of("x", deep));
        Object deep2 = "v";
        for (int i = 0; i < 40; i++) deep2 = Map.of("k", deep2);
        cases.put("deep40", Map.of("x", deep2));
        cases.put("set of sets", Map.of("x", List.of(List.of("a"), List.of())));
        cases.put("ctx entity", Map.of("x", EntityRef.user("zz")));
        for (var c : cases.entrySet()) {
            for (Action a : List.of(Action.use_tool, Action.approve)) {
                Decision d = e.decide(new AuthzRequest(EntityRef.user("u"), Set.of(), a, EntityRef.tool("t"), Map.of(), c.getValue()));
                System.out.println("PROBE " + c.getKey() + " " + a + " -> " + d);
            }
        }
    }
}
