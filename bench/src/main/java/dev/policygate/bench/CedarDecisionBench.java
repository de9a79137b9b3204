package dev.policygate.bench;

import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.Decision;
import dev.policygate.core.decision.EntityRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * One Cedar decision at 100 and 1,000 policies of {@link BenchData#realisticPolicies}: requests
 * rotate over 256 users (each in {@code developers} and two teams), the models, tools and data
 * classes, and 1 KB prompts, so that the per-principal slices and the memo see a realistic spread.
 * {@code invoke_model} reads the context and is never memoised: it is the worst case. Sample mode,
 * so JMH reports p50/p99 per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class CedarDecisionBench {
    private static final int REQUESTS = 256;

    @Param({"100", "1000"})
    int policies;

    private CedarPolicyEngine engine;
    private AuthzRequest[] invokeModel;
    private AuthzRequest[] useTool;
    private AuthzRequest[] readUnmasked;
    private int next;

    @Setup
    public void setUp() {
        engine = BenchData.realisticPolicies(policies);
        int teams = BenchData.teams(policies);
        int users = BenchData.users(policies);
        Random random = new Random(7);
        invokeModel = new AuthzRequest[REQUESTS];
        useTool = new AuthzRequest[REQUESTS];
        readUnmasked = new AuthzRequest[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            EntityRef user = EntityRef.user("user-" + random.nextInt(users * 2));
            int team = random.nextInt(teams);
            Set<String> groups = Set.of("developers", "team-" + team, "team-" + (team + 1 + random.nextInt(teams - 1)) % teams);
            String model = BenchData.MODELS[random.nextInt(BenchData.MODELS.length)];
            Set<String> detections = random.nextBoolean() ? Set.of("pii:EMAIL") : Set.of();
            String prompt = BenchData.text(1024, 400, i).toLowerCase();
            invokeModel[i] = new AuthzRequest(user, groups, Action.invoke_model, EntityRef.model(model), null,
                    Contexts.invokeModel(prompt, detections, 512L * (1 + random.nextInt(16)), random.nextBoolean(),
                            random.nextInt(30_000), false, null, "10.0.0." + random.nextInt(250), "messages",
                            new TreeSet<>(Set.of("tool-" + random.nextInt(97))), Set.of(), Set.of()));
            useTool[i] = new AuthzRequest(user, groups, Action.use_tool, EntityRef.tool("tool-" + random.nextInt(97)),
                    null, Contexts.useItem(model, detections, random.nextBoolean(), false, null,
                    "10.0.0." + random.nextInt(250)));
            readUnmasked[i] = new AuthzRequest(user, groups, Action.read_unmasked,
                    EntityRef.dataClass(BenchData.DATA_CLASSES[random.nextInt(BenchData.DATA_CLASSES.length)]), null,
                    Contexts.readUnmasked("reply"));
        }
    }

    private int index() {
        next = (next + 1) & (REQUESTS - 1);
        return next;
    }

    /** Reads the context (prompt, budget, approval, stream): never memoised. */
    @Benchmark
    public Decision invokeModel() {
        return engine.decide(invokeModel[index()]);
    }

    @Benchmark
    public Decision useTool() {
        return engine.decide(useTool[index()]);
    }

    @Benchmark
    public Decision readUnmasked() {
        return engine.decide(readUnmasked[index()]);
    }
}
