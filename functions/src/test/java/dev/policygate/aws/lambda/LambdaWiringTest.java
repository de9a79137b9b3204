package dev.policygate.aws.lambda;

import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LambdaWiringTest {
    @Test
    void policies_loadsThePoliciesBundledOnTheClasspath_whenNoFolderIsConfigured() {
        // GIVEN no POLICYGATE_POLICIES_DIR
        // WHEN the engine is built
        CedarPolicyEngine engine = LambdaWiring.policies(null);
        // THEN it holds the same policies as the repository's cedar-policies/
        assertThat(engine.policyIds()).isEqualTo(CedarPolicyEngine.load(Fixtures.root().resolve("cedar-policies"))
                .policyIds());
        assertThat(engine.policyIds()).contains("developers-may-use-claude", "secrets-always-masked");
    }

    @Test
    void policies_refusesToStart_namingTheVariable_whenTheConfiguredFolderHoldsAnInvalidPolicy(@TempDir Path dir)
            throws IOException {
        // GIVEN a folder with the schema and a policy that does not validate against it
        Files.copy(Fixtures.root().resolve("cedar-policies").resolve(CedarPolicyEngine.SCHEMA_FILE),
                dir.resolve(CedarPolicyEngine.SCHEMA_FILE));
        Files.writeString(dir.resolve("broken.cedar"), "@id(\"broken\")\npermit (principal, action == "
                + "Policygate::Action::\"invoke_model\", resource) when { context.no_such_field == 1 };\n");
        // WHEN / THEN start-up fails, naming the variable
        assertThatThrownBy(() -> LambdaWiring.policies(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(AwsSettings.POLICIES_DIR + " " + dir);
    }

    @Test
    void production_buildsTheGateway_withoutCallingAws() {
        // GIVEN settings naming resources that do not exist, and no AWS credentials or network needed
        Map<String, String> env = new HashMap<>();
        env.put(AwsSettings.AWS_REGION, "eu-west-1");
        env.put(AwsSettings.TABLE, "does-not-exist");
        env.put(AwsSettings.BUCKET, "does-not-exist");
        env.put(AwsSettings.API_KEY_SECRET_ARN, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:none-AbCdEf");
        // WHEN the function's INIT wiring runs
        Gateway gateway = LambdaWiring.production(AwsSettings.fromEnvironment(env));
        // THEN it completes: any AWS call would have failed on the missing resources or credentials
        assertThat(gateway).isNotNull();
    }
}
