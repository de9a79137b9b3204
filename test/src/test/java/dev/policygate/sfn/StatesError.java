package dev.policygate.sfn;

/** An error inside an execution (a task error, States.Runtime, ...), matched by Retry and Catch. */
final class StatesError extends RuntimeException {
    private final String error;
    private final String cause;

    StatesError(String error, String cause) {
        super(error + ": " + cause);
        this.error = error;
        this.cause = cause;
    }

    String error() {
        return error;
    }

    String cause() {
        return cause;
    }
}
