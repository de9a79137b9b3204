package dev.policygate.adapters.upstream;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One sweeper for every upstream time limit (header waits, body idle limits, request deadlines):
 * a daemon thread that checks the watched exchanges every {@value #TICK_MS} ms and runs the expiry
 * action of those whose limit has passed. Watching and unwatching cost a set insertion and removal,
 * with no task scheduled, cancelled or left queued per request, and no thread woken per request.
 *
 * <p>Limits: a limit fires up to {@value #TICK_MS} ms late. Expiry actions run on the sweeper
 * thread and must be short (they close or abort a connection).
 */
final class UpstreamWatchdog {
    /** How often the limits are checked: the lateness bound of every timeout. */
    static final long TICK_MS = 10;
    private static final Set<Watch> WATCHED = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService SWEEPER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "policygate-upstream-watchdog");
        t.setDaemon(true);
        return t;
    });

    static {
        SWEEPER.scheduleWithFixedDelay(UpstreamWatchdog::sweep, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    private UpstreamWatchdog() {
    }

    /** A watched limit; {@link #cancel()} when the exchange no longer needs it. */
    static final class Watch {
        private final BooleanSupplier expired;
        private final Runnable onExpiry;

        private Watch(BooleanSupplier expired, Runnable onExpiry) {
            this.expired = expired;
            this.onExpiry = onExpiry;
        }

        /** Stops watching; false when the limit has already fired (its action has run or is running). */
        boolean cancel() {
            return WATCHED.remove(this);
        }
    }

    /** Runs {@code onExpiry} once, on the sweeper, the first time {@code expired} answers true (unless cancelled). */
    static Watch watch(BooleanSupplier expired, Runnable onExpiry) {
        Watch w = new Watch(expired, onExpiry);
        WATCHED.add(w);
        return w;
    }

    /** Runs {@code onExpiry} once when {@code nanoDeadline} ({@link System#nanoTime()} time) has passed. */
    static Watch at(long nanoDeadline, Runnable onExpiry) {
        return watch(() -> System.nanoTime() - nanoDeadline > 0, onExpiry);
    }

    /** How many limits are watched now (tests). */
    static int watched() {
        return WATCHED.size();
    }

    private static void sweep() {
        for (Watch w : WATCHED) {
            try {
                if (w.expired.getAsBoolean() && WATCHED.remove(w)) {
                    w.onExpiry.run();
                }
            } catch (RuntimeException e) {
                // one broken action must not stop the others' limits
                WATCHED.remove(w);
            }
        }
    }
}
