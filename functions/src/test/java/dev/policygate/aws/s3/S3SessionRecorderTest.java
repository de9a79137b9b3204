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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link S3SessionRecorder} against s3rver. */
class S3SessionRecorderTest {
    private static final String BUCKET = "recordings";
    private static final Instant STARTED = Instant.parse("2026-11-25T10:00:00Z");
    private static Emulator emulator;
    private static S3Client s3;

    private final SessionIds ids = new SessionIds(Clock.systemUTC());

    @BeforeAll
    static void startS3() throws IOException {
        emulator = Emulator.s3rver();
        s3 = InterceptedS3.client(emulator.endpoint());
        s3.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    private static SessionSummary summary(String id, SessionStatus status, Instant startedAt) {
        return new SessionSummary(id, "dev@example.com", status, "ALLOW", "POST /v1/messages", "claude-x", 200,
                List.of("p1"), startedAt, status.terminal() ? startedAt.plusSeconds(1) : null);
    }

    private static ObjectNode recording(String id, String replyText) {
        ObjectNode r = Json.mapper().createObjectNode().put("session_id", id);
        r.putObject("decision").put("effect", "ALLOW").putArray("policy_ids").add("p1");
        r.putObject("reply").put("text", replyText);
        return r;
    }

    private static String keyOf(String id) {
        return "sessions/2026/11/25/" + id + ".json.gz";
    }

    private static boolean exists(String key) {
        try {
            s3.headObject(b -> b.bucket(BUCKET).key(key));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private static void putRaw(String key, byte[] body) {
        s3.putObject(PutObjectRequest.builder().bucket(BUCKET).key(key).build(), RequestBody.fromBytes(body));
    }

    @Test
    void read_returnsWhatWasWritten() throws Exception {
        // GIVEN a completed session's recording
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        String id = ids.next();
        ObjectNode written = recording(id, "Here is the [EMAIL] you asked about: ünïcødé ✓");
        // WHEN it is written and read back
        recorder.write(summary(id, SessionStatus.COMPLETED, STARTED), written);
        // THEN the content is equal
        assertThat(recorder.read(summary(id, SessionStatus.COMPLETED, STARTED))).contains(written);
    }

    @Test
    void write_storesTheRecordingUnderTheUtcDateTheSessionStarted() throws Exception {
        // GIVEN a session that started on 1 January in Paris, still 31 December in UTC
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        String id = ids.next();
        Instant startedAt = OffsetDateTime.parse("2027-01-01T00:30:00+01:00").toInstant();
        // WHEN it is recorded
        recorder.write(summary(id, SessionStatus.COMPLETED, startedAt), recording(id, "ok"));
        // THEN the key is sessions/yyyy/mm/dd/<id>.json.gz with the UTC date
        assertThat(s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("sessions/2026/12/31/" + id)).contents())
                .extracting(o -> o.key()).containsExactly("sessions/2026/12/31/" + id + ".json.gz");
        assertThat(exists("sessions/2027/01/01/" + id + ".json.gz")).isFalse();
    }

    @Test
    void write_storesGzippedJson_labelledAsJsonWithGzipEncoding() throws Exception {
        // GIVEN a recorder
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        String id = ids.next();
        ObjectNode written = recording(id, "masked");
        // WHEN it writes a recording
        recorder.write(summary(id, SessionStatus.COMPLETED, STARTED), written);
        // THEN the stored bytes are gzip (magic 1f 8b) of the JSON
        byte[] raw = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(keyOf(id))).asByteArray();
        assertThat(raw[0]).isEqualTo((byte) 0x1f);
        assertThat(raw[1]).isEqualTo((byte) 0x8b);
        byte[] json = new GZIPInputStream(new ByteArrayInputStream(raw)).readAllBytes();
        assertThat(Json.mapper().readTree(json)).isEqualTo(written);
        // AND the object says what it is
        HeadObjectResponse head = s3.headObject(b -> b.bucket(BUCKET).key(keyOf(id)));
        assertThat(head.contentType()).isEqualTo("application/json");
        assertThat(head.contentEncoding()).isEqualTo("gzip");
    }

    @Test
    void read_returnsEmpty_whenTheSessionWasNeverRecorded() throws Exception {
        // GIVEN an indexed session without a recording (a crash before completion)
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        // WHEN it is read THEN there is nothing, and no error
        assertThat(recorder.read(summary(ids.next(), SessionStatus.IN_FLIGHT, STARTED))).isEmpty();
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"../../../etc/passwd", "01KAQ3NDEKTSV4RRFFQ69G5FA/", "01kaq3ndektsv4rrffq69g5fav",
            "01KAQ3NDEKTSV4RRFFQ69G5FAV/../../x", "01KAQ3NDEKTSV4RRFFQ69G5FA", "01KAQ3NDEKTSV4RRFFQ69G5FAI",
            "01KAQ3NDEKTSV4RRFFQ69G5FA%"})
    void writeAndRead_refuseAnIdThatIsNotASessionId(String id) {
        // GIVEN a summary whose id does not have the session id shape
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        SessionSummary hostile = summary(id, SessionStatus.COMPLETED, STARTED);
        // WHEN it is written or read THEN it is refused before any key is built, without echoing the id
        assertThatThrownBy(() -> recorder.write(hostile, recording("x", "x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("invalid session id");
        assertThatThrownBy(() -> recorder.read(hostile))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("invalid session id");
    }

    @Test
    void write_refusesARecordingOverTheBound_andStoresNothing() throws Exception {
        // GIVEN a recorder bounded to 1 KiB of JSON, and a recording of about 2 KiB
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null, 1024);
        String id = ids.next();
        ObjectNode big = recording(id, "a".repeat(2048));
        // WHEN it is written THEN it is refused by size, and nothing reaches the bucket
        assertThatThrownBy(() -> recorder.write(summary(id, SessionStatus.COMPLETED, STARTED), big))
                .isInstanceOf(IOException.class)
                .hasMessage("recording s3://" + BUCKET + "/" + keyOf(id) + " exceeds 1024 bytes");
        assertThat(exists(keyOf(id))).isFalse();
    }

    @Test
    void write_acceptsARecordingOfExactlyTheBound() throws Exception {
        // GIVEN a recording whose JSON is exactly the bound
        String id = ids.next();
        ObjectNode exact = recording(id, "");
        int size = Json.mapper().writeValueAsBytes(exact).length;
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null, size);
        // WHEN it is written and read THEN it round-trips
        recorder.write(summary(id, SessionStatus.COMPLETED, STARTED), exact);
        assertThat(recorder.read(summary(id, SessionStatus.COMPLETED, STARTED))).contains(exact);
    }

    @Test
    void read_refusesAStoredRecordingOverTheBound() throws Exception {
        // GIVEN a 2 KiB recording in the bucket (highly compressible: a small object, a large body)
        String id = ids.next();
        new S3SessionRecorder(s3, BUCKET, null).write(summary(id, SessionStatus.COMPLETED, STARTED),
                recording(id, "a".repeat(2048)));
        // WHEN a recorder bounded to 1 KiB reads it THEN it stops at the bound
        S3SessionRecorder bounded = new S3SessionRecorder(s3, BUCKET, null, 1024);
        assertThatThrownBy(() -> bounded.read(summary(id, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class).hasMessageEndingWith("exceeds 1024 bytes");
    }

    @Test
    void read_refusesAStoredObjectOverTheBound_beforeDecompressingIt() throws Exception {
        // GIVEN a 4 KiB object that does not compress, under a recorder bounded to 1 KiB
        String id = ids.next();
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        putRaw(keyOf(id), noise);
        S3SessionRecorder bounded = new S3SessionRecorder(s3, BUCKET, null, 1024);
        // WHEN it is read THEN its stored size alone refuses it (not a gzip error)
        assertThatThrownBy(() -> bounded.read(summary(id, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class).hasMessageEndingWith("exceeds 1024 bytes");
    }

    @Test
    void write_replacesTheRecording_soTheCompletedOneWinsOverThePendingOne() throws Exception {
        // GIVEN a session recorded while it waits for approval
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        String id = ids.next();
        recorder.write(summary(id, SessionStatus.PENDING_APPROVAL, STARTED), recording(id, "pending"));
        // WHEN it is recorded again once completed
        ObjectNode completed = recording(id, "completed");
        recorder.write(summary(id, SessionStatus.COMPLETED, STARTED), completed);
        // THEN the last recording is the one read, and there is still one object
        assertThat(recorder.read(summary(id, SessionStatus.COMPLETED, STARTED))).contains(completed);
        assertThat(s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("sessions/2026/11/25/" + id)).keyCount())
                .isEqualTo(1);
    }

    @Test
    void write_asksForSseKmsWithTheConfiguredKey() throws Exception {
        // GIVEN a recorder configured with a KMS key, on a client that records the requests it sends
        // (s3rver accepts SSE headers but does not echo them, so the request is what can be checked)
        List<SdkHttpRequest> sent = new CopyOnWriteArrayList<>();
        try (S3Client observed = InterceptedS3.client(emulator.endpoint(), recordingRequests(sent))) {
            String kmsKey = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
            S3SessionRecorder recorder = new S3SessionRecorder(observed, BUCKET, kmsKey);
            String id = ids.next();
            // WHEN it writes a recording
            recorder.write(summary(id, SessionStatus.COMPLETED, STARTED), recording(id, "x"));
            // THEN the PutObject asked for aws:kms with that key
            SdkHttpRequest put = sent.get(0);
            assertThat(put.method().name()).isEqualTo("PUT");
            assertThat(put.firstMatchingHeader("x-amz-server-side-encryption")).contains("aws:kms");
            assertThat(put.firstMatchingHeader("x-amz-server-side-encryption-aws-kms-key-id")).contains(kmsKey);
        }
    }

    @Test
    void write_leavesEncryptionToTheBucketDefault_whenNoKeyIsConfigured() throws Exception {
        // GIVEN a recorder without a KMS key (emulators)
        List<SdkHttpRequest> sent = new CopyOnWriteArrayList<>();
        try (S3Client observed = InterceptedS3.client(emulator.endpoint(), recordingRequests(sent))) {
            String id = ids.next();
            // WHEN it writes a recording
            new S3SessionRecorder(observed, BUCKET, null).write(summary(id, SessionStatus.COMPLETED, STARTED),
                    recording(id, "x"));
            // THEN no SSE header is sent
            assertThat(sent.get(0).headers().keySet())
                    .noneMatch(h -> h.toLowerCase().startsWith("x-amz-server-side-encryption"));
        }
    }

    @Test
    void read_reportsAnObjectThatIsNotGzip_withoutQuotingIt() throws Exception {
        // GIVEN plain text where a recording should be
        String id = ids.next();
        putRaw(keyOf(id), "sk-ant-secret-looking-text".getBytes(UTF_8));
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        // WHEN it is read THEN it fails, naming the object and not its content
        assertThatThrownBy(() -> recorder.read(summary(id, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class)
                .hasMessage("recording s3://" + BUCKET + "/" + keyOf(id) + " is not valid gzip");
    }

    @Test
    void read_reportsGzipWithABadChecksum() throws Exception {
        // GIVEN a gzipped recording whose CRC trailer was damaged
        String id = ids.next();
        byte[] gz = gzip(Json.mapper().writeValueAsBytes(recording(id, "x")));
        gz[gz.length - 8] ^= 0x01;
        putRaw(keyOf(id), gz);
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        // WHEN it is read THEN it is refused
        assertThatThrownBy(() -> recorder.read(summary(id, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class).hasMessageEndingWith("is not valid gzip");
    }

    @Test
    void read_refusesATruncatedRecording() throws Exception {
        // GIVEN the first half of a gzipped recording, as a cut-off upload could leave it
        String id = ids.next();
        byte[] gz = gzip(Json.mapper().writeValueAsBytes(recording(id, "y".repeat(4096))));
        putRaw(keyOf(id), Arrays.copyOf(gz, gz.length / 2));
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        // WHEN it is read THEN it is refused rather than returned in part
        assertThatThrownBy(() -> recorder.read(summary(id, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class).hasMessageEndingWith("is not valid gzip");
    }

    @Test
    void read_reportsGzippedTextThatIsNotAJsonObject_withoutQuotingIt() throws Exception {
        // GIVEN gzipped non-JSON, and gzipped JSON that is not an object
        S3SessionRecorder recorder = new S3SessionRecorder(s3, BUCKET, null);
        String notJson = ids.next();
        putRaw(keyOf(notJson), gzip("{\"reply\": sk-ant-secret}".getBytes(UTF_8)));
        String notObject = ids.next();
        putRaw(keyOf(notObject), gzip("[1,2]".getBytes(UTF_8)));
        // WHEN they are read THEN both fail with a message that names the object only
        assertThatThrownBy(() -> recorder.read(summary(notJson, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("recording s3://" + BUCKET + "/" + keyOf(notJson) + " is not valid JSON")
                .hasMessageNotContaining("sk-ant");
        assertThatThrownBy(() -> recorder.read(summary(notObject, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class).hasMessageEndingWith("is not a JSON object");
    }

    @Test
    void s3Errors_becomeIOExceptions_namingTheObjectButNotTheContent() {
        // GIVEN a recorder pointed at a bucket that does not exist
        S3SessionRecorder recorder = new S3SessionRecorder(s3, "no-such-bucket", null);
        String id = ids.next();
        // WHEN it writes and reads THEN S3's refusal is an IOException with the bucket, key and error code
        assertThatThrownBy(() -> recorder.write(summary(id, SessionStatus.COMPLETED, STARTED),
                recording(id, "sk-ant-secret")))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("PutObject s3://no-such-bucket/" + keyOf(id) + " failed (NoSuchBucket, HTTP 404")
                .hasMessageNotContaining("sk-ant");
        assertThatThrownBy(() -> recorder.read(summary(id, SessionStatus.COMPLETED, STARTED)))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("GetObject s3://no-such-bucket/" + keyOf(id) + " failed (NoSuchBucket");
    }

    @Test
    void constructor_refusesABlankBucketOrKmsKey() {
        assertThatThrownBy(() -> new S3SessionRecorder(s3, " ", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new S3SessionRecorder(s3, BUCKET, "")).isInstanceOf(IllegalArgumentException.class);
    }

    private static ExecutionInterceptor recordingRequests(List<SdkHttpRequest> sent) {
        return new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                sent.add(context.httpRequest());
            }
        };
    }
}
