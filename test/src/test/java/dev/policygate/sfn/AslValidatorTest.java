package dev.policygate.sfn;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The static check of our state machine with asl-validator (pinned in test/emulators/package.json):
 * the definition, with its ${...} substitutions filled in, passes; a broken copy does not.
 */
class AslValidatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private record Result(int exitCode, String output) {
    }

    private static Path validatorScript() {
        Path emulators = SfnTestSupport.repoRoot().resolve("test/emulators");
        Path script = emulators.resolve("node_modules/asl-validator/dist/bin/asl-validator.js");
        if (!Files.isRegularFile(script)) {
            fail("asl-validator is not installed: run `npm ci` in " + emulators + " (CI runs it before mvn verify)");
        }
        return script;
    }

    private static Result validate(Path definition) throws IOException, InterruptedException {
        Process node = new ProcessBuilder("node", validatorScript().toString(), "--json-path", definition.toString())
                .redirectErrorStream(true).start();
        if (!node.waitFor(60, TimeUnit.SECONDS)) {
            node.destroyForcibly();
            fail("asl-validator did not finish within 60 s");
        }
        return new Result(node.exitValue(), new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void approvalDefinition_withItsSubstitutions_passesAslValidator() throws Exception {
        String definition = SfnTestSupport.approvalDefinition();
        assertThat(definition).as("every ${...} placeholder has a sample value")
                .doesNotContainPattern("\\$\\{[A-Za-z0-9]+}");
        Path file = Files.writeString(tmp.resolve("approval.asl.json"), definition);

        Result result = validate(file);

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("is valid");
    }

    @Test
    void aBrokenDefinition_failsAslValidator() throws Exception {
        // GIVEN the approval definition whose Choice default points at a state that does not exist
        ObjectNode broken = (ObjectNode) JSON.readTree(SfnTestSupport.approvalDefinition());
        ((ObjectNode) broken.path("States").path("Decide")).put("Default", "NoSuchState");
        Path file = Files.writeString(tmp.resolve("broken.asl.json"), broken.toString());

        Result result = validate(file);

        assertThat(result.exitCode()).as(result.output()).isNotZero();
        assertThat(result.output()).contains("MISSING_TRANSITION_TARGET").contains("NoSuchState");
    }
}
