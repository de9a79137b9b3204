package dev.policygate.sfn;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Runs the Lambda functions a {@code lambda:invoke} Task names, in process. The emulator calls it on a
 * worker thread, never while holding its own lock, so a function may call back into the emulator (for
 * example SendTaskSuccess) before it returns.
 *
 * <p>Throw {@link LambdaInvocationException} to fail the task with a chosen error name and cause (a
 * service error such as {@code Lambda.ServiceException}, or a function error). Any other
 * RuntimeException is reported the way Lambda reports an unhandled exception: the error is the
 * exception's class name and the cause is {@code {"errorMessage","errorType"}} JSON.
 */
@FunctionalInterface
public interface LambdaDispatcher {
    /**
     * @param functionName the Task's FunctionName parameter, exactly as given (usually an ARN)
     * @param payload the Task's Payload parameter after path evaluation, or a JSON null when absent
     * @return the function's response (the {@code Payload} of the lambda:invoke result); null means JSON null
     */
    JsonNode invoke(String functionName, JsonNode payload);
}
