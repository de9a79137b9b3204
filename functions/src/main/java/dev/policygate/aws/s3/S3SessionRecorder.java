package dev.policygate.aws.s3;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionRecorder;
import dev.policygate.core.session.SessionSummary;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * The session recordings in S3: one gzipped JSON object per session, at
 * {@code sessions/yyyy/mm/dd/<session id>.json.gz} (the UTC date the session started), written
 * with SSE-KMS under the configured key. A session is recorded more than once (when it starts
 * waiting for approval, and when it ends); each write replaces the object whole, so a reader
 * sees one complete recording or the previous one, never a mix.
 *
 * <p>Limits: a recording is at most {@link #MAX_RECORDING_BYTES} of JSON, on write and on read.
 * Only ids of the {@link SessionIds} shape become keys. Failures are {@link IOException}s that
 * name the bucket and key, never the content. Thread-safe if the client is (S3 clients are).
 */
public final class S3SessionRecorder implements SessionRecorder {
    /** The largest recording, as uncompressed JSON, that is written or read. */
    public static final int MAX_RECORDING_BYTES = 64 * 1024 * 1024;
    private static final String CONTENT_TYPE = "application/json";
    private static final String CONTENT_ENCODING = "gzip";

    private final S3Client s3;
    private final String bucket;
    private final String kmsKeyId;
    private final int maxRecordingBytes;

    /**
     * @param kmsKeyId the KMS key (id, ARN or alias) for SSE-KMS, the production setting; null
     *                 leaves encryption to the bucket default (for emulators without KMS)
     */
    public S3SessionRecorder(S3Client s3, String bucket, String kmsKeyId) {
        this(s3, bucket, kmsKeyId, MAX_RECORDING_BYTES);
    }

    S3SessionRecorder(S3Client s3, String bucket, String kmsKeyId, int maxRecordingBytes) {
        this.s3 = Objects.requireNonNull(s3, "s3");
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("bucket must not be blank");
        }
        if (kmsKeyId != null && kmsKeyId.isBlank()) {
            throw new IllegalArgumentException("kmsKeyId must be null or not blank");
        }
        if (maxRecordingBytes < 1) {
            throw new IllegalArgumentException("maxRecordingBytes must be positive");
        }
        this.bucket = bucket;
        this.kmsKeyId = kmsKeyId;
        this.maxRecordingBytes = maxRecordingBytes;
    }

    /**
     * @throws IllegalArgumentException if the session id is not a {@link SessionIds} id or the
     *                                  summary has no start time
     * @throws IOException              if the recording is too large, or S3 refuses or loses it
     */
    @Override
    public void write(SessionSummary summary, ObjectNode recording) throws IOException {
        Objects.requireNonNull(recording, "recording");
        String key = key(summary);
        CompressedBuffer body = gzipJson(recording, key);
        PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket).key(key)
                .contentType(CONTENT_TYPE).contentEncoding(CONTENT_ENCODING);
        if (kmsKeyId != null) {
            // a bucket key: one KMS call per data key, not per object (recordings are frequent)
            put.serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(kmsKeyId).bucketKeyEnabled(true);
        }
        try {
            // a provider, not fromBytes: the SDK re-reads the body on retries without copying it
            s3.putObject(put.build(), RequestBody.fromContentProvider(body::open, body.size(), CONTENT_TYPE));
        } catch (SdkException e) {
            throw failure("PutObject", key, e);
        }
    }

    /**
     * @return the recording, or empty if none was written
     * @throws IllegalArgumentException if the session id is not a {@link SessionIds} id
     * @throws IOException              if S3 fails, or the object is too large or not gzipped JSON
     */
    @Override
    public Optional<ObjectNode> read(SessionSummary summary) throws IOException {
        String key = key(summary);
        byte[] json;
        try (ResponseInputStream<GetObjectResponse> object =
                     s3.getObject(GetObjectRequest.builder().bucket(bucket).key(key).build())) {
            Long stored = object.response().contentLength();
            if (stored != null && stored > maxStoredBytes()) {
                object.abort();
                throw tooLarge(key);
            }
            json = gunzip(object, key);
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw failure("GetObject", key, e);
        }
        JsonNode node;
        try {
            node = Json.mapper().readTree(json);
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the offending text; only the location is safe to repeat
            String at = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw new IOException("recording " + location(key) + " is not valid JSON" + at);
        }
        if (!(node instanceof ObjectNode recording)) {
            throw new IOException("recording " + location(key) + " is not a JSON object");
        }
        return Optional.of(recording);
    }

    /** The object key of a session's recording; the id is checked before it becomes a path. */
    static String key(SessionSummary summary) {
        Objects.requireNonNull(summary, "summary");
        if (!SessionIds.isValid(summary.id())) {
            // the id is not echoed: it may be anything, including control characters
            throw new IllegalArgumentException("invalid session id");
        }
        if (summary.startedAt() == null) {
            throw new IllegalArgumentException("session " + summary.id() + " has no start time");
        }
        ZonedDateTime t = summary.startedAt().atZone(ZoneOffset.UTC);
        return String.format("sessions/%04d/%02d/%02d/%s.json.gz", t.getYear(), t.getMonthValue(),
                t.getDayOfMonth(), summary.id());
    }

    private CompressedBuffer gzipJson(ObjectNode recording, String key) throws IOException {
        CompressedBuffer compressed = new CompressedBuffer();
        // the bound counts JSON bytes as they are produced, so an oversized recording is refused
        // before it is serialised whole
        try (OutputStream json = new BoundedOutputStream(new GZIPOutputStream(compressed), maxRecordingBytes, key)) {
            Json.mapper().writeValue(json, recording);
        }
        return compressed;
    }

    private byte[] gunzip(ResponseInputStream<GetObjectResponse> object, String key) throws IOException {
        byte[] json;
        try {
            // reading to the end also checks the gzip trailer (CRC and length)
            json = new GZIPInputStream(object).readNBytes(maxRecordingBytes + 1);
        } catch (ZipException | EOFException e) {
            throw new IOException("recording " + location(key) + " is not valid gzip");
        } catch (IOException e) {
            throw new IOException("reading " + location(key) + " failed", e);
        }
        if (json.length > maxRecordingBytes) {
            object.abort();
            throw tooLarge(key);
        }
        return json;
    }

    /** Gzip of incompressible data is slightly larger than the data; JSON never is in practice. */
    private long maxStoredBytes() {
        return maxRecordingBytes + maxRecordingBytes / 100L + 1024;
    }

    private IOException tooLarge(String key) {
        return new IOException("recording " + location(key) + " exceeds " + maxRecordingBytes + " bytes");
    }

    private String location(String key) {
        return "s3://" + bucket + "/" + key;
    }

    private IOException failure(String operation, String key, SdkException e) {
        String detail;
        if (e instanceof AwsServiceException service && service.awsErrorDetails() != null) {
            detail = service.awsErrorDetails().errorCode() + ", HTTP " + service.statusCode() + ", request id "
                    + service.requestId();
        } else {
            detail = e.getClass().getSimpleName();
        }
        // the SDK's exceptions describe the request, never its body: keeping the cause is safe
        return new IOException(operation + " " + location(key) + " failed (" + detail + ")", e);
    }

    /** A byte buffer that can be re-read without copying. */
    private static final class CompressedBuffer extends ByteArrayOutputStream {
        synchronized InputStream open() {
            return new ByteArrayInputStream(buf, 0, count);
        }
    }

    /** Fails once more than {@code limit} bytes have been written through it. */
    private final class BoundedOutputStream extends FilterOutputStream {
        private final long limit;
        private final String key;
        private long written;

        BoundedOutputStream(OutputStream out, long limit, String key) {
            super(out);
            this.limit = limit;
            this.key = key;
        }

        @Override
        public void write(int b) throws IOException {
            count(1);
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            count(len);
            out.write(b, off, len);
        }

        private void count(int n) throws IOException {
            written += n;
            if (written > limit) {
                throw tooLarge(key);
            }
        }
    }
}
