package dev.policygate.sfn;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link LambdaDispatcher} of stub functions registered by name, which records every invocation
 * (including failed ones) and can fail the next invocations of a function on purpose. An
 * unregistered function fails with {@code Lambda.ResourceNotFoundException}, as Lambda would.
 */
public final class RecordingLambdas implements LambdaDispatcher {
    /** One invocation, in order of arrival. */
    public record Call(String functionName, JsonNode payload) {
    }

    /** A stub function body. It may call the emulator (for example SendTaskSuccess) before returning. */
    @FunctionalInterface
    public interface Handler {
        JsonNode handle(JsonNode payload);
    }

    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    private final Map<String, Deque<RuntimeException>> faults = new ConcurrentHashMap<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    public RecordingLambdas on(String functionName, Handler handler) {
        handlers.put(functionName, handler);
        return this;
    }

    /** The next invocation of the function throws this instead of running the handler (queued, in order). */
    public RecordingLambdas failNext(String functionName, RuntimeException fault) {
        faults.computeIfAbsent(functionName, k -> new ArrayDeque<>());
        Deque<RuntimeException> queue = faults.get(functionName);
        synchronized (queue) {
            queue.addLast(fault);
        }
        return this;
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    public List<Call> callsTo(String functionName) {
        return calls.stream().filter(c -> c.functionName().equals(functionName)).toList();
    }

    @Override
    public JsonNode invoke(String functionName, JsonNode payload) {
        calls.add(new Call(functionName, payload));
        Deque<RuntimeException> queue = faults.get(functionName);
        if (queue != null) {
            RuntimeException fault;
            synchronized (queue) {
                fault = queue.pollFirst();
            }
            if (fault != null) {
                throw fault;
            }
        }
        Handler handler = handlers.get(functionName);
        if (handler == null) {
            throw new LambdaInvocationException("Lambda.ResourceNotFoundException",
                    "Function not found: " + functionName + " (no stub registered)");
        }
        return handler.handle(payload);
    }
}
