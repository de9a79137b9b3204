package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.UpstreamException;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * An upstream body that fails with a TIMEOUT when no byte arrives for the idle limit. The JDK
 * client's request timeout ends once the headers arrive; without this, a stalled stream would
 * hold a request thread forever and leave its session IN_FLIGHT.
 */
final class IdleTimeoutInputStream extends FilterInputStream {
    private final long idleNanos;
    private final UpstreamWatchdog.Watch watch;
    private volatile long lastActivity = System.nanoTime();
    private volatile boolean timedOut;
    private final long deadlineNanos;
    private final boolean hasDeadline;

    /** @param deadline when the whole body must have arrived, or null */
    IdleTimeoutInputStream(InputStream in, Duration idle, java.time.Instant deadline) {
        super(in);
        this.idleNanos = idle.toNanos();
        this.hasDeadline = deadline != null;
        this.deadlineNanos = deadline == null ? 0
                : System.nanoTime() + Math.max(0, Duration.between(java.time.Instant.now(), deadline).toNanos());
        this.watch = UpstreamWatchdog.watch(this::expired, this::expire);
    }

    private boolean expired() {
        long now = System.nanoTime();
        return now - lastActivity > idleNanos || (hasDeadline && now - deadlineNanos > 0);
    }

    private void expire() {
        timedOut = true;
        try {
            in.close();
        } catch (IOException ignored) {
            // closing is how the blocked reader is woken; nothing else to do
        }
    }

    private IOException timeout() {
        return new UpstreamException(UpstreamException.Kind.TIMEOUT, "the upstream reply did not complete in time",
                null);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (timedOut) {
            throw timeout();
        }
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            if (timedOut) {
                throw timeout();
            }
            throw e;
        }
        if (n == -1 && timedOut) {
            throw timeout();
        }
        lastActivity = System.nanoTime();
        return n;
    }

    @Override
    public void close() throws IOException {
        watch.cancel();
        in.close();
    }
}
