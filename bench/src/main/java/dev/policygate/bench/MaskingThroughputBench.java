package dev.policygate.bench;

import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Masking throughput on mixed English text with all built-in detectors on and every class
 * masked. Throughput mode over a 1 MiB text: MB/s = ops/s × 1.048576. One thread = one core.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class MaskingThroughputBench {
    /** Average characters between two entities. */
    @Param({"200", "2000"})
    int entityEvery;

    private TextMasker masker;
    private String text;

    @Setup
    public void setUp() {
        masker = new TextMasker(DetectorSet.builtIns(), MaskingConfig.defaults(new byte[32]));
        text = BenchData.text(1 << 20, entityEvery, 3);
    }

    @Benchmark
    public Object maskOneMebibyte() {
        return masker.mask(text, UnmaskDecider.MASK_ALL);
    }
}
