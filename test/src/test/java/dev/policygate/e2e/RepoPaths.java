package dev.policygate.e2e;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository root, where the policies and fixtures live. */
public final class RepoPaths {
    private RepoPaths() {
    }

    public static Path root() {
        String prop = System.getProperty("policygate.root");
        if (prop != null && Files.isDirectory(Path.of(prop, "cedar-policies"))) {
            return Path.of(prop);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("cedar-policies"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root (cedar-policies/)");
        }
        return p;
    }
}
