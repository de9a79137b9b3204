package dev.policygate.bench;

import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.Decision;
import dev.policygate.core.decision.EntityRef;

import java.nio.file.Path;
import java.util.Set;

/**
 * Cold start to the first Cedar decision: loads and validates the policy folder given as the first
 * argument (default {@code cedar-policies}), makes one invoke_model decision, and prints the
 * wall-clock time in epoch milliseconds when it is done, so that a script can subtract the moment
 * it launched the JVM ({@code bench/harness/cold-start.sh}). Also prints the load and first-call
 * split, measured inside the JVM.
 */
public final class ColdStart {
    private ColdStart() {
    }

    public static void main(String[] args) {
        long t0 = System.nanoTime();
        CedarPolicyEngine engine = CedarPolicyEngine.load(Path.of(args.length > 0 ? args[0] : "cedar-policies"));
        long t1 = System.nanoTime();
        Decision decision = engine.decide(new AuthzRequest(EntityRef.user("demo"), Set.of("developers"),
                Action.invoke_model, EntityRef.model("claude-sonnet-4-5"), null, Contexts.invokeModel("hello", Set.of(),
                256, false, 10, false, null, "127.0.0.1", "messages", Set.of(), Set.of(), Set.of())));
        long t2 = System.nanoTime();
        long doneAt = System.currentTimeMillis();
        System.out.printf("decided %s at %d; in-JVM: load+validate %.1f ms, first decision %.1f ms%n",
                decision.outcome(), doneAt, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }
}
