package dev.policygate.core.decision;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository root, where {@code cedar-policies/} lives. */
final class RepoPaths {
    private static final String POLICIES = "cedar-policies";

    private RepoPaths() {
    }

    /** From the {@code policygate.root} system property (set by Surefire), else up from the working folder. */
    static Path repoRoot() {
        String configured = System.getProperty("policygate.root");
        if (configured != null && !configured.isBlank() && Files.isDirectory(Path.of(configured, POLICIES))) {
            return Path.of(configured);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve(POLICIES))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find " + POLICIES + "/ above " + Path.of("").toAbsolutePath());
    }

    static Path policiesDir() {
        return repoRoot().resolve(POLICIES);
    }

    static String schemaText() {
        try {
            return Files.readString(policiesDir().resolve(CedarPolicyEngine.SCHEMA_FILE));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
