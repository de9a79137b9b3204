package dev.policygate.infra;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.assertions.Template;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Synthesizes the stack once per context (a synth boots jsii and takes seconds) and hands the
 * tests its template. The Lambda jar must exist: {@link PolicygateApp#lambdaJar()} fails with the
 * command that builds it.
 */
final class Stacks {
    /** Every optional feature on. */
    static final Map<String, Object> FULL = Map.ofEntries(
            Map.entry(PolicygateConfig.SES_FROM, "approvals@corp.example.org"),
            Map.entry(PolicygateConfig.SES_IDENTITY, "corp.example.org"),
            Map.entry(PolicygateConfig.SES_CONFIGURATION_SET, "policygate-mail"),
            Map.entry(PolicygateConfig.UPSTREAM, "bedrock"),
            Map.entry(PolicygateConfig.WAF, "true"),
            Map.entry(PolicygateConfig.OBJECT_LOCK, "true"),
            Map.entry(PolicygateConfig.OBJECT_LOCK_DAYS, "730"),
            Map.entry(PolicygateConfig.COGNITO_SAML, "true"),
            Map.entry(PolicygateConfig.SAML_METADATA_URL, "https://idp.corp.example.org/saml/metadata"),
            Map.entry(PolicygateConfig.COGNITO_DOMAIN_PREFIX, "policygate-corp"),
            Map.entry(PolicygateConfig.COGNITO_CALLBACK_URLS, "https://tools.corp.example.org/callback"),
            Map.entry(PolicygateConfig.INTEGRATION_TIMEOUT, "120"),
            Map.entry(PolicygateConfig.APPROVAL_TIMEOUT, "172800"),
            Map.entry(PolicygateConfig.ALARM_EMAIL, "oncall@corp.example.org"));

    /** The defaults, with a real sender so that no placeholder warning is expected. */
    static final Map<String, Object> DEFAULT = Map.of(PolicygateConfig.SES_FROM, "approvals@corp.example.org");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Map<String, Object>, Synth> CACHE = new ConcurrentHashMap<>();

    /** A synthesized stack and its template. */
    record Synth(PolicygateStack stack, Template template) {
        /** Resources of one type, by logical id. */
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> resources(String type) {
            Map<String, Map<String, Object>> out = new LinkedHashMap<>();
            template.findResources(type).forEach((k, v) -> out.put(k, (Map<String, Object>) v));
            return out;
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> properties(String logicalId) {
            Map<String, Object> resources = (Map<String, Object>) template.toJSON().get("Resources");
            return (Map<String, Object>) ((Map<String, Object>) resources.get(logicalId)).get("Properties");
        }

        /** The logical id of the function whose handler is {@code handler}. */
        String function(String handler) {
            return resources("AWS::Lambda::Function").entrySet().stream()
                    .filter(e -> handler.equals(props(e.getValue()).get("Handler")))
                    .map(Map.Entry::getKey).findFirst()
                    .orElseThrow(() -> new AssertionError("no function with handler " + handler));
        }

        /** The logical id of the {@code live} alias of the function {@code functionId}. */
        String alias(String functionId) {
            return resources("AWS::Lambda::Alias").entrySet().stream()
                    .filter(e -> json(props(e.getValue()).get("FunctionName")).contains("\"" + functionId + "\""))
                    .map(Map.Entry::getKey).findFirst()
                    .orElseThrow(() -> new AssertionError("no alias for " + functionId));
        }

        /** The logical id of the role a function runs with. */
        String roleOf(String functionId) {
            return (String) ((List<?>) ((Map<?, ?>) properties(functionId).get("Role")).get("Fn::GetAtt")).get(0);
        }

        /** Every IAM statement attached to {@code roleId}, as parsed JSON. */
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> statementsOf(String roleId) {
            return resources("AWS::IAM::Policy").values().stream()
                    .filter(p -> json(props(p).get("Roles")).contains("\"" + roleId + "\""))
                    .flatMap(p -> ((List<Map<String, Object>>) ((Map<String, Object>) props(p).get("PolicyDocument"))
                            .get("Statement")).stream())
                    .toList();
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> environmentOf(String functionId) {
            return (Map<String, Object>) ((Map<String, Object>) properties(functionId).get("Environment"))
                    .get("Variables");
        }
    }

    private Stacks() {
    }

    static Synth of(Map<String, Object> context) {
        return CACHE.computeIfAbsent(context, Stacks::synth);
    }

    private static Synth synth(Map<String, Object> context) {
        Path outdir;
        try {
            outdir = Files.createTempDirectory("policygate-cdk-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        App app = new App(AppProps.builder().context(context).outdir(outdir.toString()).build());
        PolicygateStack stack = PolicygateApp.build(app);
        return new Synth(stack, Template.fromStack(stack));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> props(Map<String, Object> resource) {
        Object p = resource.get("Properties");
        return p == null ? Map.of() : (Map<String, Object>) p;
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
