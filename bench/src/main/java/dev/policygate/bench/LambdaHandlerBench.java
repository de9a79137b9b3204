package dev.policygate.bench;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import dev.policygate.aws.lambda.GatewayHandler;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.json.Json;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Lambda handler's overhead per request in a warm JVM, emulators excluded: POST /v1/messages
 * (4 KB prompt, 3 tools) against 50 policies, an in-process Claude answering an 8 KB reply, and
 * sessions and keys in memory. {@code handlerRequest} goes through {@link GatewayHandler} from the
 * API Gateway proxy event ({@code events/apigateway/messages-post.json}); {@code coreRequest}
 * hands the same request to the {@link dev.policygate.core.gateway.Gateway} directly. Their
 * difference, in one run, is the handler's own cost: event and response translation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class LambdaHandlerBench {
    @Param({"50"})
    int policies;

    private InMemoryGateway wiring;
    private GatewayHandler handler;
    /** Read only by the handler, so one instance serves every call. */
    private APIGatewayProxyRequestEvent event;
    /** The same request as the handler derives it from {@link #event}. */
    private GatewayRequest request;

    @Setup
    public void setUp() throws IOException {
        wiring = new InMemoryGateway(BenchData.policies(policies), BenchData.bytes(BenchData.messagesReply(8192)));
        handler = new GatewayHandler(wiring.gateway, InMemoryGateway.MAX_BODY_BYTES);
        String body = new String(BenchData.bytes(BenchData.messagesRequest(4096)), StandardCharsets.UTF_8);

        event = Json.mapper().readValue(BenchData.event("apigateway/messages-post.json"),
                APIGatewayProxyRequestEvent.class);
        Map<String, String> headers = new HashMap<>(event.getHeaders());
        headers.put("x-api-key", wiring.apiKey);
        Map<String, List<String>> multi = new HashMap<>(event.getMultiValueHeaders());
        multi.put("x-api-key", List.of(wiring.apiKey));
        event.setHeaders(headers);
        event.setMultiValueHeaders(multi);
        event.setBody(body);

        Map<String, String> lowerCased = new HashMap<>();
        headers.forEach((name, value) -> lowerCased.putIfAbsent(name.toLowerCase(Locale.ROOT), value));
        request = new GatewayRequest("POST", "/v1/messages", Map.of(), lowerCased,
                body.getBytes(StandardCharsets.UTF_8), false, event.getRequestContext().getIdentity().getSourceIp());

        checkBothPathsForwardAndMask();
    }

    /** A benchmark of a refused or unmasked request would measure the wrong path. */
    private void checkBothPathsForwardAndMask() {
        APIGatewayProxyResponseEvent viaHandler = handler.handleRequest(event, null);
        String handlerSession = wiring.sessions.newestSummary().id();
        GatewayResponse viaCore = wiring.gateway.handle(request);
        String coreBody = new String(viaCore.body(), StandardCharsets.UTF_8);
        if (viaHandler.getStatusCode() != 200 || viaCore.status() != 200 || !viaHandler.getBody().equals(coreBody)
                || coreBody.contains("@example.com") || !coreBody.contains("[EMAIL]")) {
            throw new IllegalStateException("expected the same masked 200 reply on both paths, got "
                    + viaHandler.getStatusCode() + " and " + viaCore.status());
        }
        String status = wiring.sessions.newestSummary().status().name();
        if (handlerSession.equals(wiring.sessions.newestSummary().id()) || !"COMPLETED".equals(status)) {
            throw new IllegalStateException("expected a completed session per request, got " + status);
        }
    }

    @TearDown
    public void tearDown() {
        wiring.close();
    }

    @Benchmark
    public APIGatewayProxyResponseEvent handlerRequest() {
        return handler.handleRequest(event, null);
    }

    @Benchmark
    public GatewayResponse coreRequest() {
        return wiring.gateway.handle(request);
    }
}
