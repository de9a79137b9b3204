package dev.policygate.infra;

import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.cxapi.CloudAssembly;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The app synthesizes a complete cloud assembly: the template and the Lambda package as an asset. */
class SynthTest {

    @Test
    void synth_writesCdkOut_withTheTemplateAndTheLambdaAsset() throws Exception {
        Path outdir = Path.of(System.getProperty("policygate.cdkOut", "target/cdk.out"));
        App app = new App(AppProps.builder().outdir(outdir.toString())
                .context(Map.of(PolicygateConfig.SES_FROM, "approvals@corp.example.org")).build());
        PolicygateApp.build(app);
        CloudAssembly assembly = app.synth();

        Path template = outdir.resolve(PolicygateApp.STACK_NAME + ".template.json");
        assertThat(template).exists();
        assertThat(Path.of(assembly.getDirectory()).toRealPath()).isEqualTo(outdir.toRealPath());
        assertThat(assembly.getStackByName(PolicygateApp.STACK_NAME).getTemplateFullPath()).endsWith(".template.json");
        String json = Files.readString(template);
        assertThat(json).contains("\"AWS::Lambda::Function\"", "\"AWS::StepFunctions::StateMachine\"");
        String assets = Files.readString(outdir.resolve(PolicygateApp.STACK_NAME + ".assets.json"));
        long jarSize = Files.size(PolicygateApp.lambdaJar());
        try (var files = Files.list(outdir)) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith("asset."))
                    .anyMatch(p -> p.toString().endsWith(".jar") && size(p) == jarSize))
                    .as("the Lambda jar is staged as a file asset").isTrue();
        }
        assertThat(assets).contains(".jar");
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
