package dev.policygate.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.Decision;
import dev.policygate.core.decision.EntityRef;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.ReplyMasker;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;
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
import org.openjdk.jmh.infra.Blackhole;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * In-process gateway overhead, upstream excluded: analyse a 4 KB prompt with 3 tools, decide
 * (invoke_model + use_tool per tool + read_unmasked per detected class), and mask an 8 KB reply.
 * Sample mode, so JMH reports p50/p99/p99.9 per call. Single thread = one core. {@code mix=realistic}
 * uses {@link BenchData#realisticPolicies} (the principal is in {@code developers} and two teams);
 * {@code mix=terms} the older generator of term, model and tool forbids ({@link BenchData#policies}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class GatewayOverheadBench {
    @Param({"50", "1000"})
    int policies;

    @Param({"realistic"})
    String mix;

    private static final Set<String> GROUPS = Set.of("developers", "team-1", "team-2");

    private CedarPolicyEngine engine;
    private RequestAnalyzer analyzer;
    private ReplyMasker replyMasker;
    private byte[] requestBody;
    private ObjectNode reply;
    private String promptForDecide;

    @Setup
    public void setUp() {
        engine = "terms".equals(mix) ? BenchData.policies(policies) : BenchData.realisticPolicies(policies);
        DetectorSet detectors = DetectorSet.builtIns();
        analyzer = new RequestAnalyzer(detectors);
        replyMasker = new ReplyMasker(new TextMasker(detectors, MaskingConfig.defaults(new byte[32])));
        requestBody = BenchData.bytes(BenchData.messagesRequest(4096));
        promptForDecide = analyzer.analyse(requestBody, RequestAnalyzer.Operation.MESSAGES).normalisedPrompt();
        reply = BenchData.messagesReply(8192);
    }

    @Benchmark
    public void analyseDecideMask(Blackhole bh) {
        AnalysedRequest a = analyzer.analyse(requestBody, RequestAnalyzer.Operation.MESSAGES);
        Set<String> detections = a.detectionLabels();
        EntityRef user = EntityRef.user("dev");
        Set<String> groups = GROUPS;
        Decision d = engine.decide(new AuthzRequest(user, groups, Action.invoke_model, EntityRef.model(a.model()),
                null, Contexts.invokeModel(a.normalisedPrompt(), detections, a.maxTokens(), a.stream(),
                a.estimatedInputTokens(), false, null, "127.0.0.1", "messages", new TreeSet<>(a.tools()), Set.of(),
                Set.of())));
        bh.consume(d);
        Map<String, Object> itemCtx = Contexts.useItem(a.model(), detections, false, false, null, "127.0.0.1");
        for (String tool : a.tools()) {
            bh.consume(engine.decide(new AuthzRequest(user, groups, Action.use_tool, EntityRef.tool(tool), null,
                    itemCtx)));
        }
        Map<DataClass, Boolean> memo = new HashMap<>();
        UnmaskDecider decider = c -> memo.computeIfAbsent(c, k -> engine.decide(new AuthzRequest(user, groups,
                Action.read_unmasked, EntityRef.dataClass(k.name()), null, Contexts.readUnmasked("reply"))).allowed());
        ObjectNode copy = reply.deepCopy();
        bh.consume(replyMasker.maskMessage(copy, decider));
        bh.consume(copy);
    }

    /** The parts, to see where the time goes. */
    @Benchmark
    public Object analyseOnly() {
        return analyzer.analyse(requestBody, RequestAnalyzer.Operation.MESSAGES);
    }

    @Benchmark
    public Object decideInvokeModelOnly() {
        return engine.decide(new AuthzRequest(EntityRef.user("dev"), GROUPS, Action.invoke_model,
                EntityRef.model("claude-sonnet-4-5"), null, Contexts.invokeModel(promptForDecide, Set.of("pii:EMAIL"),
                1024, false, 1000, false, null, "127.0.0.1", "messages", Set.of("get_weather"), Set.of(), Set.of())));
    }

    @Benchmark
    public Object decideReadUnmaskedOnly() {
        return engine.decide(new AuthzRequest(EntityRef.user("dev"), GROUPS, Action.read_unmasked,
                EntityRef.dataClass("EMAIL"), null, Contexts.readUnmasked("reply")));
    }

    @Benchmark
    public Object maskReplyOnly() {
        ObjectNode copy = reply.deepCopy();
        replyMasker.maskMessage(copy, UnmaskDecider.MASK_ALL);
        return copy;
    }
}
