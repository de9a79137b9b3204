package dev.policygate.infra;

import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.cxapi.SynthesisMessage;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** cdk-nag's AWS Solutions rules pass on the stack, and every accepted finding says why. */
class CdkNagTest {

    @Test
    void defaultStack_hasNoAwsSolutionsErrors() {
        assertNoErrors(Stacks.of(Stacks.DEFAULT));
    }

    @Test
    void stackWithEveryOptionalFeature_hasNoAwsSolutionsErrors() {
        assertNoErrors(Stacks.of(Stacks.FULL));
    }

    @Test
    void everySuppression_carriesAWrittenReason() {
        for (Map<String, Object> context : List.of(Stacks.DEFAULT, Stacks.FULL)) {
            String template = Stacks.json(Stacks.of(context).template().toJSON());
            Matcher m = Pattern.compile("\"rules_to_suppress\":\\[(.*?)]}").matcher(template);
            int suppressions = 0;
            Matcher reason = Pattern.compile("\"reason\":\"([^\"]*)\"").matcher(template);
            while (reason.find()) {
                suppressions++;
                assertThat(reason.group(1)).as("a suppression's reason").hasSizeGreaterThan(40);
            }
            assertThat(m.find()).isTrue();
            assertThat(suppressions).isGreaterThan(0);
            assertThat(template).doesNotContain("\"reason\":\"\"");
        }
    }

    private static void assertNoErrors(Stacks.Synth s) {
        List<SynthesisMessage> errors = Annotations.fromStack(s.stack())
                .findError("*", Match.stringLikeRegexp(".*"));
        assertThat(errors.stream().map(e -> e.getId() + ": " + e.getEntry().getData()).toList()).isEmpty();
        List<SynthesisMessage> warnings = Annotations.fromStack(s.stack())
                .findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"));
        assertThat(warnings.stream().map(e -> e.getId() + ": " + e.getEntry().getData()).toList()).isEmpty();
    }
}
