package dev.policygate.aws.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class EmfMetricsTest {
    @Test
    void eachMetricIsOneEmfLine_andBadNamesOrValuesAreDropped() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        EmfMetrics m = new EmfMetrics(new PrintStream(out, true, StandardCharsets.UTF_8),
                Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC));
        m.count("UpstreamError");
        m.value("UpstreamLatency", 12.5, "Milliseconds");
        m.count("bad name\"}");
        m.value("X", Double.NaN, "Count");
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(2);
        JsonNode first = Json.mapper().readTree(lines[0]);
        assertThat(first.path("UpstreamError").asInt()).isEqualTo(1);
        assertThat(first.path("_aws").path("CloudWatchMetrics").get(0).path("Namespace").asText()).isEqualTo("Policygate");
        JsonNode second = Json.mapper().readTree(lines[1]);
        assertThat(second.path("UpstreamLatency").asDouble()).isEqualTo(12.5);
        assertThat(second.path("_aws").path("CloudWatchMetrics").get(0).path("Metrics").get(0).path("Unit").asText())
                .isEqualTo("Milliseconds");
        assertThat(second.path("_aws").path("Timestamp").asLong()).isEqualTo(1_700_000_000_000L);
    }
}
