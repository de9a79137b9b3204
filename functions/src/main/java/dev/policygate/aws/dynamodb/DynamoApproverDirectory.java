package dev.policygate.aws.dynamodb;

import dev.policygate.core.approval.ApproverDirectory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The approver directory on AWS, in the Policygate table: {@code APPROVER_GROUP#<group>} holds
 * the group's {@code members} (a string set of emails), and {@code APPROVER#<email>} the
 * approver's {@code groups}, for Cedar {@code approve}. Emails are stored lower-case. Managed
 * with {@code policygate approvers add|remove|list --table T} (see the README).
 *
 * <p>A read failure is an {@link UncheckedIOException}: the gateway then refuses to hold the
 * request (503) rather than guess who may approve.
 */
public final class DynamoApproverDirectory implements ApproverDirectory {
    private static final String MEMBERS = "members";
    private static final String GROUPS = "groups";
    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoApproverDirectory(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public Set<String> approvers(String group) {
        return stringSet(PolicygateTable.APPROVER_GROUP_PREFIX + group, MEMBERS);
    }

    @Override
    public Set<String> groupsOf(String email) {
        return stringSet(PolicygateTable.APPROVER_PREFIX + normal(email), GROUPS);
    }

    /** Adds an approver to a group (both items; idempotent). */
    public void add(String group, String email) throws IOException {
        change("ADD", group, email);
    }

    /** Removes an approver from a group (idempotent). */
    public void remove(String group, String email) throws IOException {
        change("DELETE", group, email);
    }

    /** {@code ADD} or {@code DELETE} the email in the group's members and the group in the email's groups. */
    private void change(String operation, String group, String email) throws IOException {
        String e = checkedEmail(email);
        String g = checkedGroup(group);
        setMember(operation, PolicygateTable.APPROVER_GROUP_PREFIX + g, MEMBERS, e);
        setMember(operation, PolicygateTable.APPROVER_PREFIX + e, GROUPS, g);
    }

    private void setMember(String operation, String pk, String attribute, String value) throws IOException {
        DynamoCalls.call("UpdateItem", () -> dynamo.updateItem(b -> b.tableName(table).key(key(pk))
                .updateExpression(operation + " #a :v")
                .expressionAttributeNames(Map.of("#a", attribute))
                .expressionAttributeValues(Map.of(":v", AttributeValue.fromSs(java.util.List.of(value))))));
    }

    private Set<String> stringSet(String pk, String attribute) {
        try {
            Map<String, AttributeValue> item = DynamoCalls.call("GetItem", () -> dynamo.getItem(b -> b.tableName(table)
                    .key(key(pk)).consistentRead(true))).item();
            if (item == null || !item.containsKey(attribute) || !item.get(attribute).hasSs()) {
                return Set.of();
            }
            return new TreeSet<>(item.get(attribute).ss());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, AttributeValue> key(String pk) {
        return Map.of(PolicygateTable.PK, AttributeValue.fromS(pk));
    }

    private static String normal(String email) {
        return email == null ? "" : email.trim().toLowerCase(Locale.ROOT);
    }

    static String checkedEmail(String email) {
        String e = normal(email);
        if (e.length() > 254 || !e.matches("[^@\\s]+@[^@\\s]+\\.[^@\\s]+")) {
            throw new IllegalArgumentException("not an email address: " + email);
        }
        return e;
    }

    static String checkedGroup(String group) {
        if (group == null || !group.matches("[A-Za-z0-9._:-]{1,128}")) {
            throw new IllegalArgumentException("a group name is 1-128 of A-Z a-z 0-9 . _ : -");
        }
        return group;
    }
}
