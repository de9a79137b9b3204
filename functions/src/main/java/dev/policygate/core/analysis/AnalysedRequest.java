package dev.policygate.core.analysis;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.detect.DataClass;

import java.util.List;
import java.util.Set;

/**
 * What the gateway learned from a Messages API request body.
 *
 * @param json             the parsed body (forwarded as is unless prompt masking rewrites it)
 * @param model            the model as sent
 * @param maxTokens        {@code max_tokens}, or 0 for count_tokens
 * @param stream           {@code stream}
 * @param rawText          system and message text, as sent (for masking decisions)
 * @param normalisedPrompt the normalised text given to Cedar as {@code context.prompt}
 * @param detected         data classes found in the request text
 * @param acrossParts      the classes of those found in an entity that runs from one string of the
 *                         request into the next (a private key split over two content blocks):
 *                         masking each string alone would leave both halves
 * @param tools            tool names (custom and server tools)
 * @param skills           {@code container.skills[].skill_id}
 * @param mcpServers       {@code mcp_servers[].name}
 * @param estimatedInputTokens a cheap estimate (chars / 4, plus images and documents)
 */
public record AnalysedRequest(ObjectNode json, String model, long maxTokens, boolean stream, String rawText,
                              String normalisedPrompt, Set<DataClass> detected, Set<DataClass> acrossParts,
                              List<String> tools, List<String> skills, List<String> mcpServers, long estimatedInputTokens) {
    public Set<String> detectionLabels() {
        java.util.TreeSet<String> labels = new java.util.TreeSet<>();
        for (DataClass c : detected) {
            labels.add(c.label());
        }
        return labels;
    }
}
