package dev.policygate.aws.s3;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.aws.testing.Emulator;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionSummary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** {@link S3SessionRecorder} when S3 fails: injected through an execution interceptor. */
class S3SessionRecorderFailureTest {
    private static final String BUCKET = "recordings";
    private static final Instant STARTED = Instant.parse("2026-11-25T10:00:00Z");
    private static Emulator emulator;
    private static S3Client healthy;
    private static S3Client failingPuts;
    private static S3Client truncatingPuts;
    private static final AtomicInteger failedPuts = new AtomicInteger();
    private static final AtomicInteger truncatedPuts = new AtomicInteger();

    private final SessionIds ids = new SessionIds(Clock.systemUTC());

    /** Fails every PutObject just before it is sent, as a dropped connection would. */
    private static final class FailPutObject implements ExecutionInterceptor {
        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            if (context.request() instanceof PutObjectRequest) {
                failedPuts.incrementAndGet();
                throw SdkClientException.create("injected: connection reset");
            }
        }
    }

    /**
     * An HTTP client that cuts every PUT body off half-way, after the headers and the first half
     * are on the wire, as a connection lost mid-upload would. (An interceptor cannot do this: the
     * signer reads the whole body to hash it before anything is sent.)
     */
    private static final class TruncatingPuts implements SdkHttpClient {
        private final SdkHttpClient delegate = UrlConnectionHttpClient.create();

        @Override
        public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
            if (request.httpRequest().method() != SdkHttpMethod.PUT || request.contentStreamProvider().isEmpty()) {
                return delegate.prepareRequest(request);
            }
            ContentStreamProvider body = request.contentStreamProvider().get();
            long half = Long.parseLong(request.httpRequest().firstMatchingHeader("Content-Length").orElseThrow()) / 2;
            return delegate.prepareRequest(HttpExecuteRequest.builder().request(request.httpRequest())
                    .contentStreamProvider(() -> new CutOff(body.newStream(), half))
                    .metricCollector(request.metricCollector().orElse(null)).build());
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    /** Ends in an IOException after {@code limit} bytes. */
    private static final class CutOff extends FilterInputStream {
        private long remaining;

        CutOff(InputStream in, long limit) {
            super(in);
            this.remaining = limit;
        }

        @Override
        public int read() throws IOException {
            cutWhenSpent();
            remaining--;
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            cutWhenSpent();
            int n = super.read(b, off, (int) Math.min(len, remaining));
            remaining -= Math.max(n, 0);
            return n;
        }

        private void cutWhenSpent() throws IOException {
            if (remaining <= 0) {
                truncatedPuts.incrementAndGet();
                throw new IOException("injected: connection lost mid-upload");
            }
        }
    }

    @BeforeAll
    static void startS3() throws IOException {
        emulator = Emulator.s3rver();
        healthy = InterceptedS3.client(emulator.endpoint());
        failingPuts = InterceptedS3.client(emulator.endpoint(), new FailPutObject());
        truncatingPuts = InterceptedS3.builder(emulator.endpoint()).httpClient(new TruncatingPuts()).build();
        healthy.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterAll
    static void stopS3() {
        for (S3Client c : new S3Client[] {healthy, failingPuts, truncatingPuts}) {
            if (c != null) {
                c.close();
            }
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    private static SessionSummary summary(String id, SessionStatus status) {
        return new SessionSummary(id, "dev@example.com", status, "ALLOW", "POST /v1/messages", "claude-x", 200,
                List.of("p1"), STARTED, status.terminal() ? STARTED.plusSeconds(1) : null);
    }

    private static ObjectNode recording(String id, String text) {
        return Json.mapper().createObjectNode().put("session_id", id).put("text", text);
    }

    private static String keyOf(String id) {
        return "sessions/2026/11/25/" + id + ".json.gz";
    }

    @Test
    void write_throwsIOException_andLeavesNoObject_whenThePutFails() {
        // GIVEN a client whose PutObject fails
        S3SessionRecorder recorder = new S3SessionRecorder(failingPuts, BUCKET, null);
        String id = ids.next();
        int before = failedPuts.get();
        // WHEN a recording is written
        // THEN the failure is an IOException naming the object, with the SDK's exception as the cause
        assertThatThrownBy(() -> recorder.write(summary(id, SessionStatus.COMPLETED), recording(id, "sk-ant-x")))
                .isInstanceOf(IOException.class)
                .hasMessage("PutObject s3://" + BUCKET + "/" + keyOf(id) + " failed (SdkClientException)")
                .hasCauseInstanceOf(SdkClientException.class);
        assertThat(failedPuts.get()).as("the put was attempted").isGreaterThan(before);
        // AND no object, partial or whole, is in the bucket
        assertThatThrownBy(() -> healthy.headObject(b -> b.bucket(BUCKET).key(keyOf(id))))
                .isInstanceOf(NoSuchKeyException.class);
        assertThat(healthy.listObjectsV2(b -> b.bucket(BUCKET).prefix("sessions/2026/11/25/" + id)).keyCount())
                .isZero();
    }

    @Test
    void write_throwsIOException_andNoPartialRecordingIsRead_whenTheUploadIsCutOffMidBody() {
        // GIVEN a client whose PUT bodies are cut off half-way through, on the wire
        S3SessionRecorder recorder = new S3SessionRecorder(truncatingPuts, BUCKET, null);
        String id = ids.next();
        int before = truncatedPuts.get();
        // WHEN a recording is written THEN it fails as an IOException naming the object
        assertThatThrownBy(() -> recorder.write(summary(id, SessionStatus.COMPLETED), recording(id, "x".repeat(4096))))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("PutObject s3://" + BUCKET + "/" + keyOf(id) + " failed")
                .hasCauseInstanceOf(SdkClientException.class);
        assertThat(truncatedPuts.get()).as("the body was cut on every attempt").isGreaterThan(before);
        // AND no partial recording is ever read back. S3 stores nothing for a body shorter than
        // its Content-Length; s3rver keeps an empty object instead, which the gzip check refuses.
        S3SessionRecorder reader = new S3SessionRecorder(healthy, BUCKET, null);
        Throwable readFailure = catchThrowable(() -> assertThat(reader.read(summary(id, SessionStatus.COMPLETED)))
                .isEmpty());
        if (readFailure != null) {
            assertThat(readFailure).isInstanceOf(IOException.class).hasMessageEndingWith("is not valid gzip");
        }
    }

    @Test
    void write_keepsThePreviousRecording_whenItsReplacementFails() throws Exception {
        // GIVEN a session recorded while pending approval
        String id = ids.next();
        ObjectNode pending = recording(id, "pending");
        new S3SessionRecorder(healthy, BUCKET, null).write(summary(id, SessionStatus.PENDING_APPROVAL), pending);
        // WHEN the completed recording cannot be put
        S3SessionRecorder failing = new S3SessionRecorder(failingPuts, BUCKET, null);
        assertThatThrownBy(() -> failing.write(summary(id, SessionStatus.COMPLETED), recording(id, "completed")))
                .isInstanceOf(IOException.class);
        // THEN the pending recording is still there, whole
        assertThat(failing.read(summary(id, SessionStatus.COMPLETED))).contains(pending);
    }
}
