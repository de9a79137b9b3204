package dev.policygate.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A smoke run of the benchmarks the fast-path figures come from: each runs in this JVM for one
 * short iteration at the smaller policy count, so that a change that breaks a benchmark (its
 * set-up, its policies, its requests) fails the build. It asserts only that every one ran and
 * measured something; figures come from the full runs in bench/README.md, never from here.
 */
class BenchSmokeTest {
    @Test
    void benchmarks_runAndMeasure() throws RunnerException {
        // GIVEN the decision and in-process overhead benchmarks, one brief iteration each, no fork
        Options options = new OptionsBuilder()
                .include("CedarDecisionBench|GatewayOverheadBench.analyseDecideMask")
                .param("policies", "100")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(200))
                .shouldFailOnError(true)
                .build();

        // WHEN they run
        Collection<RunResult> results = new Runner(options).run();

        // THEN each benchmark produced a measurement
        Set<String> ran = new TreeSet<>();
        for (RunResult result : results) {
            assertThat(result.getPrimaryResult().getSampleCount()).isPositive();
            assertThat(result.getPrimaryResult().getScore()).isPositive();
            ran.add(result.getParams().getBenchmark().replaceFirst(".*\\.bench\\.", ""));
        }
        assertThat(ran).containsExactly("CedarDecisionBench.invokeModel", "CedarDecisionBench.readUnmasked",
                "CedarDecisionBench.useTool", "GatewayOverheadBench.analyseDecideMask");
    }
}
