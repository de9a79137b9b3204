package dev.policygate.core.approval;

import java.io.IOException;
import java.time.Instant;

/**
 * Port: starts the human approval of a held request (already in the {@link HeldRequestStore}).
 * In-process locally ({@link InProcessApprovalWorkflow}); a Step Functions execution on AWS.
 * The outcome comes back later, through the approval pages and the gateway's
 * {@code resumeApproved} / {@code endHeld}.
 */
public interface ApprovalWorkflow {
    /**
     * @return when the approval expires
     * @throws ApprovalService.NoApproversException if a required group has nobody who may approve
     * @throws IOException                          if the workflow could not be started
     */
    Instant start(HeldRequest held) throws IOException;

    /** True if the outcome arrives in this process (then the gateway keeps the session at hand). */
    default boolean inProcess() {
        return false;
    }
}
