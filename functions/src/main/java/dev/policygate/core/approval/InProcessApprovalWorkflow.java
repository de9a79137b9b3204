package dev.policygate.core.approval;

import java.io.IOException;
import java.time.Instant;

/** Local mode: the approval runs in this process, through the {@link ApprovalService}. */
public final class InProcessApprovalWorkflow implements ApprovalWorkflow {
    private final ApprovalService approvals;

    public InProcessApprovalWorkflow(ApprovalService approvals) {
        this.approvals = approvals;
    }

    @Override
    public Instant start(HeldRequest held) throws IOException {
        return approvals.open(held.hold(), null).expiresAt();
    }

    @Override
    public boolean inProcess() {
        return true;
    }
}
