package dev.policygate.sfn;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Fails a Lambda task with an exact error name and cause, as seen by Retry, Catch and the history. */
public final class LambdaInvocationException extends RuntimeException {
    private final String error;
    private final String errorCause;

    public LambdaInvocationException(String error, String cause) {
        super(error + ": " + cause);
        this.error = error;
        this.errorCause = cause;
    }

    /** A Lambda service error such as {@code Lambda.ServiceException} or {@code Lambda.TooManyRequestsException}. */
    public static LambdaInvocationException serviceError(String error, String message) {
        return new LambdaInvocationException(error, message);
    }

    /** A function error: the error is the errorType, the cause is Lambda's error JSON. */
    public static LambdaInvocationException functionError(String errorType, String errorMessage) {
        ObjectNode cause = JsonNodeFactory.instance.objectNode();
        cause.put("errorMessage", errorMessage);
        cause.put("errorType", errorType);
        cause.putArray("stackTrace");
        return new LambdaInvocationException(errorType, cause.toString());
    }

    public String error() {
        return error;
    }

    public String errorCause() {
        return errorCause;
    }
}
