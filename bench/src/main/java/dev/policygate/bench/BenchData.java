package dev.policygate.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.json.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Inputs shared by the benchmarks: realistic text, Messages requests and replies, a sized policy set. */
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
                "AKIA" + "IOSFODNN7EXAMPLE", "123-45-6789", "GB82 WEST 1234 5698 7654 32"};
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
        return withRepoPolicies(total, (count, gen) -> {
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
        });
    }

    /**
     * The repository's schema and policies plus {@code generated.cedar}, which {@code generator}
     * writes given how many policies the repository already has; checks the total.
     */
    private static CedarPolicyEngine withRepoPolicies(int total,
                                                      java.util.function.BiConsumer<Integer, StringBuilder> generator) {
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
            generator.accept(count, gen);
            files.put("generated.cedar", gen.toString());
            CedarPolicyEngine engine = CedarPolicyEngine.fromSources(schema, files);
            if (engine.policyCount() != Math.max(total, count)) {
                throw new IllegalStateException("expected " + total + " policies, got " + engine.policyCount());
            }
            return engine;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Data classes the built-in detectors find, named as the schema's {@code DataClass} ids. */
    static final String[] DATA_CLASSES = {"EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN", "IP_ADDRESS"};
    /** The models the realistic policy set names. */
    static final String[] MODELS = {"claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-opus-4-5",
            "claude-3-5-haiku", "claude-sonnet-4"};

    /** How many teams (groups) the realistic set of {@code total} policies has: about 16 policies per team. */
    static int teams(int total) {
        return Math.max(6, total / 60);
    }

    /** How many users have policies of their own in the realistic set of {@code total} policies. */
    static int users(int total) {
        return Math.max(4, total / 10);
    }

    /**
     * An organisation's policy set of {@code total} policies: the repository's defaults plus a
     * deterministic mix that grows with the organisation, as entitlements do. Per 20 policies:
     * 6 team model permits ({@code principal in Group, resource == Model}), 3 team model forbids
     * reading {@code context.max_tokens}, 2 user tool/skill permits ({@code principal == User}),
     * 2 team tool permits (many tools, so no per-resource slice), 1 approvable team forbid
     * ({@code @approval}, reads {@code context.estimated_input_tokens} and {@code context.approval}),
     * 1 team {@code read_unmasked} permit for replies, 1 global term forbid on {@code context.prompt}
     * (every invoke_model request sees all of these), 1 team term forbid, 1 team skill forbid,
     * 1 team MCP-server permit reading {@code context.source_ip}, and 1 user forbid on
     * {@code context.stream}. Teams are {@code team-0..}{@link #teams}, users {@code user-0..}{@link #users}.
     */
    static CedarPolicyEngine realisticPolicies(int total) {
        return withRepoPolicies(total, (count, gen) -> {
            int teams = teams(total);
            int users = users(total);
            String ns = "Policygate::";
            for (int i = count; i < total; i++) {
                String team = ns + "Group::\"team-" + (i * 7 % teams) + "\"";
                String user = ns + "User::\"user-" + (i * 13 % users) + "\"";
                String model = ns + "Model::\"" + MODELS[i % MODELS.length] + "\"";
                gen.append("@id(\"r-").append(i).append("\")\n");
                switch (i % 20) {
                    case 0, 1, 2, 3, 4, 5 -> gen.append("permit (principal in ").append(team)
                            .append(", action == ").append(ns).append("Action::\"invoke_model\", resource == ")
                            .append(model).append(");\n");
                    case 6, 7, 8 -> gen.append("@message(\"budget ").append(i).append("\")\nforbid (principal in ")
                            .append(team).append(", action == ").append(ns)
                            .append("Action::\"invoke_model\", resource == ").append(model)
                            .append(") when { context.max_tokens > ").append(2048 + 512 * (i % 8)).append(" };\n");
                    case 9, 10 -> gen.append("permit (principal == ").append(user).append(", action in [").append(ns)
                            .append("Action::\"use_tool\", ").append(ns).append("Action::\"use_skill\"], resource);\n");
                    case 11, 12 -> gen.append("permit (principal in ").append(team).append(", action == ").append(ns)
                            .append("Action::\"use_tool\", resource == ").append(ns).append("Tool::\"tool-")
                            .append(i % 97).append("\");\n");
                    case 13 -> gen.append("@approval(\"approvers\")\n@message(\"large prompt ").append(i)
                            .append("\")\nforbid (principal in ").append(team).append(", action == ").append(ns)
                            .append("Action::\"invoke_model\", resource) when { context.estimated_input_tokens > ")
                            .append(20_000 + i).append(" } unless { context.approval.granted };\n");
                    case 14 -> gen.append("permit (principal in ").append(team).append(", action == ").append(ns)
                            .append("Action::\"read_unmasked\", resource == ").append(ns).append("DataClass::\"")
                            .append(DATA_CLASSES[i % DATA_CLASSES.length])
                            .append("\") when { context.direction == \"reply\" };\n");
                    case 15 -> gen.append("@message(\"term ").append(i).append("\")\nforbid (principal, action == ")
                            .append(ns).append("Action::\"invoke_model\", resource) when { context.prompt like "
                                    + "\"*forbidden-term-").append(i).append("*\" };\n");
                    case 16 -> gen.append("@message(\"team term ").append(i).append("\")\nforbid (principal in ")
                            .append(team).append(", action == ").append(ns).append("Action::\"invoke_model\", resource)"
                                    + " when { context.prompt like \"*codename-").append(i).append("*\" };\n");
                    case 17 -> gen.append("forbid (principal in ").append(team).append(", action == ").append(ns)
                            .append("Action::\"use_skill\", resource == ").append(ns).append("Skill::\"skill-")
                            .append(i % 31).append("\");\n");
                    case 18 -> gen.append("permit (principal in ").append(team).append(", action == ").append(ns)
                            .append("Action::\"use_tool\", resource == ").append(ns).append("McpServer::\"mcp-")
                            .append(i % 11).append("\") when { context.source_ip.isInRange(ip(\"10.0.0.0/8\")) };\n");
                    default -> gen.append("@message(\"no streaming ").append(i).append("\")\nforbid (principal == ")
                            .append(user).append(", action == ").append(ns)
                            .append("Action::\"invoke_model\", resource) when { context.stream };\n");
                }
            }
        });
    }

    /**
     * A Messages request for {@code claude-sonnet-4-5} with 3 custom tools and one user turn of
     * {@code promptChars} chars of text (an entity every 400 chars or so).
     */
    static ObjectNode messagesRequest(int promptChars) {
        ObjectNode req = Json.mapper().createObjectNode();
        req.put("model", "claude-sonnet-4-5");
        req.put("max_tokens", 1024);
        ArrayNode tools = req.putArray("tools");
        for (String t : new String[]{"get_weather", "search_docs", "create_ticket"}) {
            ObjectNode tool = tools.addObject();
            tool.put("name", t);
            tool.put("description", "Tool " + t);
            tool.putObject("input_schema").put("type", "object");
        }
        req.putArray("messages").addObject().put("role", "user").put("content", text(promptChars, 400, 1));
        return req;
    }

    /** A complete Messages reply with one text block of {@code textChars} chars (an entity every 600 or so). */
    static ObjectNode messagesReply(int textChars) {
        ObjectNode reply = Json.mapper().createObjectNode();
        reply.put("id", "msg_1").put("type", "message").put("role", "assistant").put("model", "claude-sonnet-4-5");
        reply.putArray("content").addObject().put("type", "text").put("text", text(textChars, 600, 2));
        reply.put("stop_reason", "end_turn");
        reply.putObject("usage").put("input_tokens", 1000).put("output_tokens", 2000);
        return reply;
    }

    static byte[] bytes(JsonNode node) {
        try {
            return Json.mapper().writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A sample event of the repo's {@code events/} folder. */
    static byte[] event(String relativePath) {
        try {
            return Files.readAllBytes(root().resolve("events").resolve(relativePath));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
