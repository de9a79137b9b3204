package dev.policygate.aws.lambda;

import dev.policygate.core.gateway.GatewayMetrics;

import java.io.PrintStream;
import java.time.Clock;

/**
 * Counters as CloudWatch Embedded Metric Format log lines (namespace {@code Policygate}): in
 * Lambda, a line on standard output becomes a metric with no SDK call and no added latency.
 */
final class EmfMetrics implements GatewayMetrics {
    private final PrintStream out;
    private final Clock clock;

    EmfMetrics(PrintStream out, Clock clock) {
        this.out = out;
        this.clock = clock;
    }

    @Override
    public void count(String name) {
        value(name, 1, "Count");
    }

    @Override
    public void value(String name, double value, String unit) {
        if (!name.matches("[A-Za-z0-9]{1,64}") || !unit.matches("[A-Za-z/]{1,32}") || !Double.isFinite(value)) {
            return;
        }
        String v = value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
        out.println("{\"_aws\":{\"Timestamp\":" + clock.millis() + ",\"CloudWatchMetrics\":[{\"Namespace\":\"Policygate\","
                + "\"Dimensions\":[[]],\"Metrics\":[{\"Name\":\"" + name + "\",\"Unit\":\"" + unit + "\"}]}]},\""
                + name + "\":" + v + "}");
    }
}
