package dev.policygate.local;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.approval.ApproverDirectory;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The approver directory of local mode: {@code <data-dir>/approvers.json}, for example
 * {@code {"groups": {"approvers": ["alice@example.com"]}}}. Re-read when the file changes.
 */
final class FileApproverDirectory implements ApproverDirectory {
    static final String FILE = "approvers.json";
    private final Path file;
    private volatile long loadedStamp = Long.MIN_VALUE;
    private volatile Map<String, Set<String>> groups = Map.of();

    FileApproverDirectory(Path dataDir) {
        this.file = dataDir.resolve(FILE);
    }

    /** Writes an example directory when none exists, so the quick start can approve. */
    static void writeDefaultIfAbsent(Path dataDir, String email) throws IOException {
        Path f = dataDir.resolve(FILE);
        if (!Files.exists(f)) {
            Files.writeString(f, "{\n  \"groups\": {\n    \"approvers\": [\"" + email + "\"]\n  }\n}\n");
        }
    }

    private Map<String, Set<String>> current() {
        try {
            long stamp = Files.exists(file) ? Files.getLastModifiedTime(file).toMillis() ^ Files.size(file) : -1;
            if (stamp != loadedStamp) {
                synchronized (this) {
                    groups = stamp == -1 ? Map.of() : parse(Json.mapper().readTree(file.toFile()));
                    loadedStamp = stamp;
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(FILE + " is not valid: expected {\"groups\": {\"<group>\": [emails]}}");
        }
        return groups;
    }

    static Map<String, Set<String>> parse(JsonNode root) {
        Map<String, Set<String>> out = new HashMap<>();
        JsonNode g = root.path("groups");
        if (!g.isObject()) {
            throw new IllegalArgumentException("missing groups");
        }
        Iterator<Map.Entry<String, JsonNode>> it = g.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            Set<String> emails = new TreeSet<>();
            for (JsonNode m : e.getValue()) {
                String email = m.asText("").trim().toLowerCase(Locale.ROOT);
                if (!email.matches("[^@\\s]{1,64}@[^@\\s]{1,255}")) {
                    throw new IllegalArgumentException("bad email");
                }
                emails.add(email);
            }
            out.put(e.getKey(), Set.copyOf(emails));
        }
        return Map.copyOf(out);
    }

    @Override
    public Set<String> approvers(String group) {
        return current().getOrDefault(group, Set.of());
    }

    @Override
    public Set<String> groupsOf(String email) {
        Set<String> out = new TreeSet<>();
        current().forEach((group, emails) -> {
            if (emails.contains(email.toLowerCase(Locale.ROOT))) {
                out.add(group);
            }
        });
        return out;
    }

    /** Adds or removes one approver in {@code approvers.json} (the CLI's {@code approvers add|remove}). */
    static synchronized void update(Path dataDir, String group, String email, boolean add) throws IOException {
        if (group == null || !group.matches("[A-Za-z0-9._:-]{1,128}")) {
            throw new IllegalArgumentException("a group name is 1-128 of A-Z a-z 0-9 . _ : -");
        }
        String e = email == null ? "" : email.trim().toLowerCase(Locale.ROOT);
        if (!e.matches("[^@\\s]{1,64}@[^@\\s]{1,255}")) {
            throw new IllegalArgumentException("not an email address: " + email);
        }
        Path f = dataDir.resolve(FILE);
        Map<String, Set<String>> groups = new java.util.TreeMap<>();
        if (Files.exists(f)) {
            parse(Json.mapper().readTree(f.toFile())).forEach((g, m) -> groups.put(g, new TreeSet<>(m)));
        }
        Set<String> members = groups.computeIfAbsent(group, g -> new TreeSet<>());
        if (add) {
            members.add(e);
        } else {
            members.remove(e);
        }
        com.fasterxml.jackson.databind.node.ObjectNode root = Json.mapper().createObjectNode();
        com.fasterxml.jackson.databind.node.ObjectNode g = root.putObject("groups");
        groups.forEach((name, m) -> {
            com.fasterxml.jackson.databind.node.ArrayNode a = g.putArray(name);
            m.forEach(a::add);
        });
        Path tmp = Files.createTempFile(dataDir, FILE, ".tmp");
        Files.writeString(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
