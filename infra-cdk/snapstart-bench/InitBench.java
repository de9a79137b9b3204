// Measures what SnapStart priming buys, locally: the INIT work of a Policygate function (policy
// engine, analyser, masker) with and without the priming pass, and the cost of the first request
// after it. Each run is one fresh JVM, like a cold Lambda. Run from the repository root, after
// packaging functions (see infra-cdk/README.md, "SnapStart priming"):
//
//   java -cp functions/target/policygate-lambda.jar infra-cdk/snapstart-bench/InitBench.java prime
//   java -cp functions/target/policygate-lambda.jar infra-cdk/snapstart-bench/InitBench.java noprime
//
// It prints one line: mode, INIT ms (build [+ prime]), first request ms (analyse + decide + mask
// of a request different from the priming one), second request ms. Local only: no AWS call.
import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.EntityRef;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;

public class InitBench {
    private static final byte[] PRIMING = ("{\"model\":\"claude-priming\",\"max_tokens\":16,\"messages\":[{\"role\":"
            + "\"user\",\"content\":\"prime the masker for a.b@example.com\"}]}").getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) {
        boolean prime = args.length > 0 && args[0].equals("prime");
        long t0 = System.nanoTime();
        CedarPolicyEngine policies = CedarPolicyEngine.load(Path.of("cedar-policies"));
        DetectorSet detectors = DetectorSet.builtIns();
        TextMasker masker = new TextMasker(detectors, MaskingConfig.defaults(null));
        RequestAnalyzer analyzer = new RequestAnalyzer(detectors);
        long built = System.nanoTime();
        if (prime) {
            request(policies, analyzer, masker, PRIMING, "policygate-priming");
        }
        long init = System.nanoTime();
        request(policies, analyzer, masker, body(1), "alice");
        long first = System.nanoTime();
        request(policies, analyzer, masker, body(2), "bob");
        long second = System.nanoTime();
        System.out.printf("%s init_ms=%.1f (build %.1f + prime %.1f) first_request_ms=%.1f second_request_ms=%.2f%n",
                prime ? "prime" : "noprime", ms(init - t0), ms(built - t0), ms(init - built), ms(first - init),
                ms(second - first));
    }

    private static byte[] body(int n) {
        return ("{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":256,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Request " + n + ": summarise the ticket from jane.doe" + n + "@corp.example.org, "
                + "phone +44 20 7946 09" + n + "8, about the failed deploy.\"}]}").getBytes(StandardCharsets.UTF_8);
    }

    private static void request(CedarPolicyEngine policies, RequestAnalyzer analyzer, TextMasker masker, byte[] body,
                                String user) {
        AnalysedRequest a = analyzer.analyse(body, RequestAnalyzer.Operation.MESSAGES);
        policies.decide(new AuthzRequest(EntityRef.user(user), Set.of(), Action.invoke_model,
                EntityRef.model(a.model()), null, Contexts.invokeModel(a.normalisedPrompt(), a.detectionLabels(),
                a.maxTokens(), a.stream(), a.estimatedInputTokens(), false, null, "127.0.0.1",
                Contexts.OPERATION_MESSAGES, Set.copyOf(a.tools()), Set.copyOf(a.skills()),
                Set.copyOf(a.mcpServers()))));
        masker.mask(a.rawText(), UnmaskDecider.MASK_ALL);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
