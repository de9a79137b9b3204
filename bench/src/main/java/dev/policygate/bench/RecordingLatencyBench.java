package dev.policygate.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.aws.AwsClients;
import dev.policygate.aws.dynamodb.DynamoSessionIndex;
import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.aws.s3.S3SessionRecorder;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionSummary;
import dev.policygate.core.session.SplitSessionStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What recording adds to a Lambda request, against dynalite and s3rver on 127.0.0.1: the final
 * index update, the S3 put of the recording, both as the Lambda wiring runs them (concurrently,
 * {@link SplitSessionStore#complete}), and both one after the other for comparison. The
 * recording is a real one (about 10 KB of JSON), captured from the in-memory gateway; every call
 * writes a new session id. Emulator latency is loopback plus Node, not DynamoDB's or S3's: read
 * the figures as the client-side cost and the gain from overlap, not as production latency.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class RecordingLatencyBench {
    private static final String TABLE = "policygate";
    private static final String BUCKET = "policygate-recordings";
    private static final int BACKGROUND_THREADS = 4;
    private static final int PRIMING_ROUNDS = 3000;
    private static final Duration PRIMING_MAX = Duration.ofSeconds(30);

    private NodeEmulator dynalite;
    private NodeEmulator s3rver;
    private DynamoDbClient dynamo;
    private S3Client s3;
    private ExecutorService background;
    private DynamoSessionIndex index;
    private S3SessionRecorder recorder;
    private SplitSessionStore splitStore;
    private SessionSummary capturedSummary;
    private ObjectNode capturedRecording;
    private final SessionIds ids = new SessionIds(Clock.systemUTC());

    /** One new session per call: a fresh id in the index entry and in the recording. */
    @State(Scope.Thread)
    public static class NewSession {
        SessionSummary summary;
        ObjectNode recording;

        @Setup(Level.Invocation)
        public void next(RecordingLatencyBench bench) {
            // a few microseconds against milliseconds of I/O, and outside the measured call
            String id = bench.ids.next();
            SessionSummary s = bench.capturedSummary;
            Instant now = Instant.now();
            summary = new SessionSummary(id, s.principal(), s.status(), s.decision(), s.route(), s.model(),
                    s.httpStatus(), s.policyIds(), now, now.plusMillis(1));
            recording = bench.capturedRecording.deepCopy();
            recording.put("session_id", id);
        }
    }

    @Setup(Level.Trial)
    public void startEmulators() throws IOException {
        captureRecording();
        try {
            dynalite = NodeEmulator.dynalite();
            s3rver = NodeEmulator.s3rver();
            dynamo = AwsClients.dynamo(AwsClients.Target.emulator(dynalite.endpoint()));
            s3 = AwsClients.s3(AwsClients.Target.emulator(s3rver.endpoint()));
            PolicygateTable.create(dynamo, TABLE);
            s3.createBucket(b -> b.bucket(BUCKET));
        } catch (IOException | RuntimeException e) {
            stopEmulators();
            throw e;
        }
        background = Executors.newFixedThreadPool(BACKGROUND_THREADS, r -> {
            Thread t = new Thread(r, "policygate-background");
            t.setDaemon(true);
            return t;
        });
        index = new DynamoSessionIndex(dynamo, TABLE, Duration.ofDays(400));
        // no KMS in s3rver: encryption is left to the bucket default, as LambdaWiring does without a key id
        recorder = new S3SessionRecorder(s3, BUCKET, null);
        splitStore = new SplitSessionStore(index, recorder, background);
        primeEmulators();
    }

    /**
     * Node's JIT needs far longer than the JVM's warm-up iterations to settle (a few thousand
     * requests, about half a minute here): without this, short runs measure a cooling emulator,
     * and each benchmark a different amount of cooling, since each gets fresh emulators.
     */
    private void primeEmulators() throws IOException {
        long deadline = System.nanoTime() + PRIMING_MAX.toNanos();
        NewSession session = new NewSession();
        for (int i = 0; i < PRIMING_ROUNDS && System.nanoTime() < deadline; i++) {
            session.next(this);
            index.update(session.summary);
            recorder.write(session.summary, session.recording);
        }
    }

    /** The summary and recording of a real exchange: 2 KB prompt, 3 tools, 6.5 KB reply with emails. */
    private void captureRecording() {
        try (InMemoryGateway gateway = new InMemoryGateway(BenchData.policies(50),
                BenchData.bytes(BenchData.messagesReply(6656)))) {
            var response = gateway.gateway.handle(new GatewayRequest("POST", "/v1/messages", Map.of(),
                    Map.of("x-api-key", gateway.apiKey), BenchData.bytes(BenchData.messagesRequest(2 * 1024)), false,
                    "203.0.113.42"));
            capturedSummary = gateway.sessions.newestSummary();
            capturedRecording = gateway.sessions.newestRecording();
            int size = BenchData.bytes(capturedRecording).length;
            if (response.status() != 200 || size < 8 * 1024 || size > 12 * 1024) {
                throw new IllegalStateException("expected a completed ~10 KB recording, got status "
                        + response.status() + " and " + size + " bytes");
            }
        }
    }

    @TearDown(Level.Trial)
    public void stopEmulators() {
        if (background != null) {
            background.shutdownNow();
        }
        if (dynamo != null) {
            dynamo.close();
        }
        if (s3 != null) {
            s3.close();
        }
        if (dynalite != null) {
            dynalite.close();
        }
        if (s3rver != null) {
            s3rver.close();
        }
    }

    @Benchmark
    public void indexUpdateOnly(NewSession session) throws IOException {
        index.update(session.summary);
    }

    @Benchmark
    public void s3PutOnly(NewSession session) throws IOException {
        recorder.write(session.summary, session.recording);
    }

    /** As on Lambda: the put on the background pool while the caller updates the index. */
    @Benchmark
    public void splitStoreComplete(NewSession session) throws IOException {
        splitStore.complete(session.summary, session.recording);
    }

    @Benchmark
    public void sequential(NewSession session) throws IOException {
        index.update(session.summary);
        recorder.write(session.summary, session.recording);
    }
}
