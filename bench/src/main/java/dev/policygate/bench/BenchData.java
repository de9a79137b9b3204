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
