package dev.policygate.core.gateway;

/**
 * Port: counters for operators (CloudWatch on AWS). Called on rare, important events only, so
 * implementations may be simple; they must never throw.
 */
@FunctionalInterface
public interface GatewayMetrics {
    GatewayMetrics NONE = name -> { };

    /** The write-ahead record failed and the request was forwarded anyway (fail-open). */
    String WRITE_AHEAD_FAIL_OPEN = "WriteAheadFailOpen";
    /** The write-ahead record failed and the request was refused (fail-closed). */
    String WRITE_AHEAD_FAILED = "WriteAheadFailed";
    /** A session's final recording or index entry could not be written. */
    String RECORDING_FAILED = "RecordingFailed";

    void count(String name);
}
