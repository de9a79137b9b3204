package dev.policygate.sfn;

import com.fasterxml.jackson.databind.JsonNode;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.HistoryEvent;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Fixtures and waits shared by the emulator tests. */
final class SfnTestSupport {
    static final String ROLE_ARN = "arn:aws:iam::123456789012:role/policygate-approval";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9]+)}");

    private SfnTestSupport() {
    }

    /** A definition under test/src/test/resources/sfn/. */
    static String resource(String name) {
        try (InputStream in = SfnTestSupport.class.getResourceAsStream("/sfn/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource sfn/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sample ARN a {@code ${NameFunctionArn}} placeholder is replaced with. */
    static String sampleFunctionArn(String placeholder) {
        if (!placeholder.endsWith("FunctionArn")) {
            throw new IllegalStateException("no sample value for the placeholder ${" + placeholder + "}");
        }
        String fn = placeholder.substring(0, placeholder.length() - "FunctionArn".length()).toLowerCase();
        return "arn:aws:lambda:us-east-1:123456789012:function:policygate-" + fn;
    }

    /** statemachines/approval.asl.json with every ${...}FunctionArn replaced by its sample ARN. */
    static String approvalDefinition() {
        try {
            String raw = Files.readString(repoRoot().resolve("statemachines/approval.asl.json"));
            Matcher m = PLACEHOLDER.matcher(raw);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(out, Matcher.quoteReplacement(sampleFunctionArn(m.group(1))));
            }
            m.appendTail(out);
            return out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repository root, found as the e2e tests find it (the folder holding cedar-policies/). */
    static Path repoRoot() {
        String prop = System.getProperty("policygate.root");
        if (prop != null && Files.isDirectory(Path.of(prop, "cedar-policies"))) {
            return Path.of(prop);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("cedar-policies"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root (cedar-policies/)");
        }
        return p;
    }

    /** Waits (10 s at most, real time) until the stub lambdas have seen {@code count} calls. */
    static List<RecordingLambdas.Call> awaitCalls(RecordingLambdas lambdas, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (lambdas.calls().size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " lambda calls within 10 s, saw " + lambdas.calls());
            }
            Thread.sleep(5);
        }
        return lambdas.calls();
    }

    /** The whole history, oldest first, through the SDK. */
    static List<HistoryEvent> history(SfnClient client, String executionArn) {
        return client.getExecutionHistoryPaginator(b -> b.executionArn(executionArn)).events().stream().toList();
    }

    static String text(JsonNode payload, String field) {
        return payload.path(field).asText(null);
    }
}
