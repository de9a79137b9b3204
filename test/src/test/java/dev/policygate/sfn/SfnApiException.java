package dev.policygate.sfn;

/**
 * An API error the emulator answers with HTTP 400 and {@code {"__type": type, "message": ...}}; the SDK
 * turns the type into its modeled exception (TaskDoesNotExist into TaskDoesNotExistException, and so on).
 */
final class SfnApiException extends RuntimeException {
    private final String type;

    SfnApiException(String type, String message) {
        super(message);
        this.type = type;
    }

    String type() {
        return type;
    }
}
