package dev.policygate.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStore;
import dev.policygate.core.session.SessionSummary;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Predicate;

/** Sessions in memory for core tests; can be told to fail the write-ahead. */
public final class InMemorySessionStore implements SessionStore {
    public final Map<String, SessionSummary> index = new ConcurrentSkipListMap<>();
    public final Map<String, ObjectNode> recordings = new ConcurrentSkipListMap<>();
    public volatile boolean failBegin;
    public volatile boolean collideBegin;

    @Override
    public void begin(SessionSummary s) throws IOException {
        if (failBegin) {
            throw new IOException("injected write-ahead failure");
        }
        if (collideBegin) {
            throw new IllegalStateException("session id already exists: " + s.id());
        }
        index.put(s.id(), s);
    }

    @Override
    public void complete(SessionSummary s, ObjectNode recording) {
        index.put(s.id(), s);
        recordings.put(s.id(), recording.deepCopy());
    }

    @Override
    public Optional<SessionSummary> summary(String id) {
        return Optional.ofNullable(index.get(id));
    }

    @Override
    public Optional<ObjectNode> recording(String id) {
        return Optional.ofNullable(recordings.get(id));
    }

    @Override
    public SessionPage list(SessionQuery q, Predicate<SessionSummary> visible) {
        List<SessionSummary> all = new ArrayList<>(((ConcurrentSkipListMap<String, SessionSummary>) index)
                .descendingMap().values());
        List<SessionSummary> out = new ArrayList<>();
        String next = null;
        for (SessionSummary s : all) {
            if (q.after() != null && s.id().compareTo(q.after()) >= 0) {
                continue;
            }
            if (!visible.test(s) || (q.principal() != null && !q.principal().equals(s.principal()))
                    || (q.status() != null && q.status() != s.status())
                    || (q.decision() != null && !q.decision().equals(s.decision()))) {
                continue;
            }
            if (out.size() == q.limit()) {
                next = out.get(out.size() - 1).id();
                break;
            }
            out.add(s);
        }
        return new SessionPage(out, next);
    }
}
