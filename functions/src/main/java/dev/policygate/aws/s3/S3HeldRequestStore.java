package dev.policygate.aws.s3;

import dev.policygate.aws.dynamodb.PolicygateTable;
import dev.policygate.core.approval.HeldRequest;
import dev.policygate.core.approval.HeldRequestStore;
import dev.policygate.core.approval.Sealer;
import dev.policygate.core.session.SessionIds;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * Held requests on AWS: one sealed object per session in the recordings bucket,
 * {@code held/<session id>/request} and {@code held/<session id>/reply}, encrypted twice: by
 * {@link Sealer} (AES-GCM under a key derived from the link-signing secret, bound to the
 * object's name) and by the bucket's SSE-KMS. The stack's lifecycle rule removes whatever is
 * left under {@code held/} after the approval timeout plus a day.
 *
 * <p>The forward claim is a conditional put of {@code HELD#<session id>} in the table, so that
 * however often the workflow retries, Claude is called once per approved request.
 */
public final class S3HeldRequestStore implements HeldRequestStore {
    public static final String PREFIX = "held/";
    /** A held request is the original body plus a little: Lambda's 6 MB payload bounds it. */
    private static final long MAX_OBJECT_BYTES = 8L * 1024 * 1024;
    private static final long CLAIM_KEEP_SECONDS = 8L * 24 * 3600;

    private final S3Client s3;
    private final String bucket;
    private final String kmsKeyId;
    private final DynamoDbClient dynamo;
    private final String table;
    private final Sealer sealer;
    private final Clock clock;

    public S3HeldRequestStore(S3Client s3, String bucket, String kmsKeyId, DynamoDbClient dynamo, String table,
                              Sealer sealer, Clock clock) {
        this.s3 = s3;
        this.bucket = bucket;
        this.kmsKeyId = kmsKeyId;
        this.dynamo = dynamo;
        this.table = table;
        this.sealer = sealer;
        this.clock = clock;
    }

    @Override
    public void put(HeldRequest held) throws IOException {
        write(key(held.sessionId(), "request"), held.toJson());
    }

    @Override
    public Optional<HeldRequest> get(String sessionId) throws IOException {
        Optional<byte[]> plain = read(key(sessionId, "request"));
        return plain.isEmpty() ? Optional.empty() : Optional.of(HeldRequest.fromJson(plain.get()));
    }

    @Override
    public boolean claimForward(String sessionId) throws IOException {
        String pk = PolicygateTable.HELD_PREFIX + checked(sessionId);
        try {
            dynamo.putItem(b -> b.tableName(table).item(Map.of(
                            PolicygateTable.PK, AttributeValue.fromS(pk),
                            "claimed_at", AttributeValue.fromS(clock.instant().toString()),
                            PolicygateTable.TTL_ATTRIBUTE, AttributeValue.fromN(Long.toString(
                                    clock.instant().getEpochSecond() + CLAIM_KEEP_SECONDS))))
                    .conditionExpression("attribute_not_exists(#pk)")
                    .expressionAttributeNames(Map.of("#pk", PolicygateTable.PK)));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw new IOException("DynamoDB PutItem (forward claim) failed: " + e.getClass().getSimpleName(), e);
        }
    }

    @Override
    public void delete(String sessionId) throws IOException {
        String key = key(sessionId, "request");
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        } catch (SdkException e) {
            throw new IOException("S3 DeleteObject s3://" + bucket + "/" + key + " failed: "
                    + e.getClass().getSimpleName(), e);
        }
    }

    @Override
    public void putReply(String sessionId, byte[] ownerReply) throws IOException {
        write(key(sessionId, "reply"), ownerReply);
    }

    @Override
    public Optional<byte[]> reply(String sessionId) throws IOException {
        return read(key(sessionId, "reply"));
    }

    private void write(String key, byte[] plain) throws IOException {
        byte[] sealed = sealer.seal(key, plain);
        PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket).key(key)
                .contentType("application/octet-stream");
        if (kmsKeyId != null) {
            put.serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(kmsKeyId).bucketKeyEnabled(true);
        }
        try {
            s3.putObject(put.build(), RequestBody.fromBytes(sealed));
        } catch (SdkException e) {
            throw new IOException("S3 PutObject s3://" + bucket + "/" + key + " failed: " + e.getClass().getSimpleName(),
                    e);
        }
    }

    private Optional<byte[]> read(String key) throws IOException {
        ResponseBytes<GetObjectResponse> object;
        try {
            object = s3.getObjectAsBytes(b -> b.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw new IOException("S3 GetObject s3://" + bucket + "/" + key + " failed: " + e.getClass().getSimpleName(),
                    e);
        }
        if (object.asByteArrayUnsafe().length > MAX_OBJECT_BYTES) {
            throw new IOException("s3://" + bucket + "/" + key + " is larger than a held object can be");
        }
        return Optional.of(sealer.open(key, object.asByteArrayUnsafe()));
    }

    static String key(String sessionId, String part) {
        return PREFIX + checked(sessionId) + "/" + part;
    }

    private static String checked(String sessionId) {
        if (!SessionIds.isValid(sessionId)) {
            throw new IllegalArgumentException("not a session id");
        }
        return sessionId;
    }
}
