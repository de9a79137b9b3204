package dev.policygate.core.approval;

import java.io.IOException;

/** Port: delivers an approval notice (SES on AWS, an outbox folder locally). */
public interface Notifier {
    void send(ApprovalNotice notice) throws IOException;
}
