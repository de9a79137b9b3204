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
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link S3SessionRecorder} when S3 fails: injected through an execution interceptor. */
class S3SessionRecorderFailureTest {
    private static final String BUCKET = "recordings";
    private static final Instant STARTED = Instant.parse("2026-11-25T10:00:00Z");
    private static Emulator emulator;
    private static S3Client healthy;
    private static S3Client failingPuts;
    private static final AtomicInteger failedPuts = new AtomicInteger();

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

    @BeforeAll
    static void startS3() throws IOException {
        emulator = Emulator.s3rver();
        healthy = InterceptedS3.client(emulator.endpoint());
        failingPuts = InterceptedS3.client(emulator.endpoint(), new FailPutObject());
        healthy.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterAll
    static void stopS3() {
        for (S3Client c : new S3Client[] {healthy, failingPuts}) {
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
