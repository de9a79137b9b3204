package dev.policygate.core.approval;

/** Told when an approval ends, to resume or close the held session. */
public interface ApprovalListener {
    void onApproved(ApprovalRecord record);

    void onDenied(ApprovalRecord record);

    void onExpired(ApprovalRecord record);
}
