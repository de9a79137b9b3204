package dev.policygate.aws.lambda;

import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs a local-only warm-up just before Lambda SnapStart takes the snapshot of an initialised
 * function, so that restored copies start with the Cedar native library loaded, the policy set
 * parsed and cached, and the analyser and masker JIT-warm.
 *
 * <p>The prime must touch local state only: no Claude, S3, DynamoDB, Step Functions or Secrets
 * Manager call (connections would be frozen into the snapshot and credentials would go stale),
 * and nothing that must be unique per copy (random ids, nonces, keys) may be created in it.
 *
 * <p>Where no CRaC implementation is present (local runs, tests, Lambda without SnapStart) the
 * {@code org.crac} facade ignores the registration and the prime never runs here; callers that
 * also want the warm-up without SnapStart run it themselves during INIT.
 */
public final class SnapStartPriming implements Resource {
    private static final Logger LOG = Logger.getLogger(SnapStartPriming.class.getName());
    /** The CRaC context holds resources weakly: these strong references keep them registered. */
    private static final List<SnapStartPriming> REGISTERED = new CopyOnWriteArrayList<>();

    private final Runnable prime;

    private SnapStartPriming(Runnable prime) {
        this.prime = prime;
    }

    /**
     * Registers {@code prime} to run in {@link #beforeCheckpoint}. Call it once per function,
     * during INIT, after the objects it warms are built.
     */
    public static void register(Runnable prime) {
        SnapStartPriming resource = new SnapStartPriming(Objects.requireNonNull(prime, "prime"));
        REGISTERED.add(resource);
        Core.getGlobalContext().register(resource);
    }

    /** Number of registered primes, for tests. */
    static int registered() {
        return REGISTERED.size();
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        long start = System.nanoTime();
        prime.run();
        LOG.log(Level.INFO, () -> "SnapStart priming took " + (System.nanoTime() - start) / 1_000_000 + " ms");
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        // nothing to refresh: the prime created no connection, credential or unique value
    }
}
