package dev.policygate.core.session;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

/**
 * A {@link SessionStore} made of an index and a recorder (DynamoDB and S3 on AWS). Completing a
 * session writes the recording and the final index entry concurrently, because a Lambda can do
 * no work after it returns; it returns when both are done and fails if either fails.
 */
public final class SplitSessionStore implements SessionStore {
    private final SessionIndex index;
    private final SessionRecorder recorder;
    private final Executor executor;

    public SplitSessionStore(SessionIndex index, SessionRecorder recorder, Executor executor) {
        this.index = index;
        this.recorder = recorder;
        this.executor = executor;
    }

    @Override
    public void begin(SessionSummary inFlight) throws IOException {
        index.begin(inFlight);
    }

    @Override
    public void complete(SessionSummary summary, ObjectNode recording) throws IOException {
        CompletableFuture<Void> put = CompletableFuture.runAsync(() -> {
            try {
                recorder.write(summary, recording);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, executor);
        IOException indexFailure = null;
        try {
            index.update(summary);
        } catch (IOException e) {
            indexFailure = e;
        } catch (RuntimeException e) {
            // still wait for the put below: a Lambda must not return with an upload in flight
            indexFailure = new IOException("index update failed", e);
        }
        try {
            put.join();
        } catch (CompletionException e) {
            IOException recordFailure = e.getCause() instanceof UncheckedIOException u ? u.getCause()
                    : new IOException("recording failed", e.getCause());
            if (indexFailure != null) {
                recordFailure.addSuppressed(indexFailure);
            }
            throw recordFailure;
        }
        if (indexFailure != null) {
            throw indexFailure;
        }
    }

    @Override
    public Optional<SessionSummary> summary(String id) {
        try {
            return index.get(id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<ObjectNode> recording(String id) throws IOException {
        Optional<SessionSummary> s = index.get(id);
        return s.isEmpty() ? Optional.empty() : recorder.read(s.get());
    }

    @Override
    public SessionPage list(SessionQuery query, Predicate<SessionSummary> visible) {
        try {
            return index.list(query, visible);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
