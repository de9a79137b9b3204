package dev.policygate.core.gateway;

/**
 * Port: counters and values for operators (CloudWatch on AWS). Implementations must be cheap and
 * must never throw: they run on the request path.
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

    /** The upstream failed: unreachable, timed out, or a 5xx, 429 or 529 answer. */
    String UPSTREAM_ERROR = "UpstreamError";
    /** Per decided request: {@code DecisionAllow}, {@code DecisionDeny}, {@code DecisionApproval}. */
    String DECISION_PREFIX = "Decision";
    /** Approvals: {@code ApprovalRequested}, {@code ApprovalApproved}, {@code ApprovalRejected}, {@code ApprovalExpired}. */
    String APPROVAL_PREFIX = "Approval";
    /** Data classes masked in one exchange (prompt and reply). */
    String MASKED_CLASSES = "MaskedClasses";
    /** Milliseconds until the upstream answered. */
    String UPSTREAM_LATENCY = "UpstreamLatency";

    void count(String name);

    /** A measured value ({@code unit}: a CloudWatch unit such as {@code Milliseconds} or {@code Count}). */
    default void value(String name, double value, String unit) {
    }
}
