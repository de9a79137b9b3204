package dev.policygate.aws.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Skips a whole suite whose {@link AwsBackend} cannot start here (LocalStack without a Docker
 * engine), so that it reads as skipped, not failed. A condition rather than an assumption in
 * {@code @BeforeAll}: Surefire reports an aborted class as zero tests run, and a disabled one as
 * each of its tests skipped with the reason.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(AwsBackendAvailable.Condition.class)
public @interface AwsBackendAvailable {

    /** Decides once, for the test class; the class's methods follow it. */
    final class Condition implements ExecutionCondition {
        private static final Logger LOG = Logger.getLogger(AwsBackendAvailable.class.getName());

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (context.getTestMethod().isPresent()) {
                return ConditionEvaluationResult.enabled("decided for the class");
            }
            Optional<String> reason;
            try {
                reason = AwsBackend.unavailableReason();
            } catch (IOException e) {
                throw new IllegalStateException("cannot tell whether the AWS backend can start", e);
            }
            if (reason.isEmpty()) {
                return ConditionEvaluationResult.enabled("AWS backend available");
            }
            // also on the console, where a quiet Maven run hides Surefire's skip counts
            LOG.warning(reason.get() + " (" + context.getDisplayName() + ")");
            return ConditionEvaluationResult.disabled(reason.get());
        }
    }
}
