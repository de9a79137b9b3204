package dev.policygate.core.decision;

/** A context value that becomes a Cedar {@code ipaddr} extension value. */
public record IpAddress(String address) {
}
