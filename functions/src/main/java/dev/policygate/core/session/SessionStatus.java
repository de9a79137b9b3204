package dev.policygate.core.session;

/** Where a session is in its life. Terminal states never change again. */
public enum SessionStatus {
    /** Write-ahead: recorded before anything is forwarded. A crash leaves it visible. */
    IN_FLIGHT,
    PENDING_APPROVAL,
    /** Approved; the forward is under way. */
    APPROVED,
    COMPLETED,
    DENIED,
    /** An approver said no. */
    REJECTED,
    EXPIRED,
    /** The upstream or the gateway failed. */
    FAILED,
    /** Malformed or oversized input, unknown route or model. */
    INVALID,
    UNAUTHENTICATED;

    public boolean terminal() {
        return this != IN_FLIGHT && this != PENDING_APPROVAL && this != APPROVED;
    }
}
