package dev.policygate.bench;

import dev.policygate.core.decision.CedarPolicyEngine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Inputs shared by the benchmarks: realistic text, a sized policy set, the repo's schema. */
final class BenchData {
    private static final String[] WORDS = ("the quarterly report shows revenue growth across regions and the team "
            + "should review the figures before the board meeting next week while customers asked about delivery "
            + "schedules pricing support contracts and the migration plan for the new platform").split(" ");

    private BenchData() {
    }

    static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("cedar-policies"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("run the benchmarks from inside the repository");
        }
        return p;
    }

    /** English-like text of about {@code size} chars with an entity roughly every {@code every} chars. */
    static String text(int size, int every, long seed) {
        Random r = new Random(seed);
        String[] entities = {"jane.doe@example.com", "+1 415 555 0132", "4111 1111 1111 1111", "10.20.30.40",
                "AKIAIOSFODNN7EXAMPLE", "123-45-6789", "GB82 WEST 1234 5698 7654 32"};
        StringBuilder b = new StringBuilder(size + 64);
        int sinceEntity = 0;
        while (b.length() < size) {
            if (sinceEntity >= every) {
                b.append(entities[r.nextInt(entities.length)]).append(' ');
                sinceEntity = 0;
            }
            String w = WORDS[r.nextInt(WORDS.length)];
            b.append(w).append(r.nextInt(12) == 0 ? ". " : " ");
            sinceEntity += w.length() + 1;
        }
        return b.substring(0, size);
    }

    /** The repo's default policies plus generated ones up to {@code total}. */
    static CedarPolicyEngine policies(int total) {
        try {
            Path dir = root().resolve("cedar-policies");
            String schema = Files.readString(dir.resolve(CedarPolicyEngine.SCHEMA_FILE));
            Map<String, String> files = new LinkedHashMap<>();
            int count = 0;
            try (var s = Files.list(dir.resolve("policies"))) {
                for (Path f : s.sorted().toList()) {
                    String src = Files.readString(f);
                    files.put(f.getFileName().toString(), src);
                    count += src.split("@id\\(").length - 1;
                }
            }
            StringBuilder gen = new StringBuilder();
            for (int i = count; i < total; i++) {
                switch (i % 3) {
                    case 0 -> gen.append("@id(\"gen-term-").append(i).append("\")\n@message(\"term ").append(i)
                            .append("\")\nforbid (principal, action == Policygate::Action::\"invoke_model\", resource)"
                                    + " when { context.prompt like \"*forbidden-term-").append(i).append("*\" };\n");
                    case 1 -> gen.append("@id(\"gen-model-").append(i).append("\")\n@message(\"model ").append(i)
                            .append("\")\nforbid (principal in Policygate::Group::\"team-").append(i)
                            .append("\", action == Policygate::Action::\"invoke_model\", resource == "
                                    + "Policygate::Model::\"claude-restricted-").append(i).append("\");\n");
                    default -> gen.append("@id(\"gen-tool-").append(i).append("\")\n@message(\"tool ").append(i)
                            .append("\")\nforbid (principal, action == Policygate::Action::\"use_tool\", resource == "
                                    + "Policygate::Tool::\"tool-").append(i).append("\") unless { principal in "
                                    + "Policygate::Group::\"admins\" };\n");
                }
            }
            files.put("generated.cedar", gen.toString());
            CedarPolicyEngine engine = CedarPolicyEngine.fromSources(schema, files);
            if (engine.policyCount() < total) {
                throw new IllegalStateException("expected " + total + " policies, got " + engine.policyCount());
            }
            return engine;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
