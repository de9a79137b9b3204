package dev.policygate.core.approval;

import java.util.Set;

/** Port: maps an approver group to the email addresses of its members. */
public interface ApproverDirectory {
    Set<String> approvers(String group);

    /** The groups an approver belongs to (for Cedar {@code approve}). */
    Set<String> groupsOf(String email);
}
