package dev.policygate.core.approval;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Signs and verifies approval links and the CSRF token of the confirmation page
 * (HMAC-SHA256). A link names one approval, one approver and an expiry; changing any of them
 * breaks the signature. Verification is constant-time.
 */
public final class ApprovalLinks {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final SecureRandom RANDOM = new SecureRandom();
    private final java.util.function.Supplier<byte[]> source;
    private volatile SecretKeySpec key;

    public ApprovalLinks(byte[] signingKey) {
        this.key = spec(signingKey);
        this.source = null;
    }

    /**
     * A key read on first use (from Secrets Manager on AWS), so that building this reads no
     * secret: nothing secret enters a SnapStart snapshot taken before the first request.
     */
    public ApprovalLinks(java.util.function.Supplier<byte[]> signingKey) {
        this.source = java.util.Objects.requireNonNull(signingKey, "signingKey");
    }

    private static SecretKeySpec spec(byte[] signingKey) {
        if (signingKey == null || signingKey.length < 32) {
            throw new IllegalArgumentException("the link-signing key must be at least 32 bytes");
        }
        return new SecretKeySpec(signingKey.clone(), "HmacSHA256");
    }

    private SecretKeySpec key() {
        SecretKeySpec k = key;
        if (k == null) {
            synchronized (this) {
                if (key == null) {
                    key = spec(source.get());
                }
                k = key;
            }
        }
        return k;
    }

    /** A new approval id: 128 random bits, base64url. */
    public static String newApprovalId() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return B64.encodeToString(b);
    }

    public static boolean isApprovalIdShape(String id) {
        return id != null && id.length() == 22 && id.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '_');
    }

    public String sign(String approvalId, String approver, long expiresEpochSecond) {
        return mac("link|" + approvalId + "|" + approver + "|" + expiresEpochSecond);
    }

    public String csrfToken(String approvalId, String approver, long expiresEpochSecond) {
        return mac("csrf|" + approvalId + "|" + approver + "|" + expiresEpochSecond);
    }

    public boolean verify(String approvalId, String approver, long expiresEpochSecond, String signature) {
        return constantTimeEquals(sign(approvalId, approver, expiresEpochSecond), signature);
    }

    public boolean verifyCsrf(String approvalId, String approver, long expiresEpochSecond, String token) {
        return constantTimeEquals(csrfToken(approvalId, approver, expiresEpochSecond), token);
    }

    private static boolean constantTimeEquals(String expected, String actual) {
        if (actual == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                actual.getBytes(StandardCharsets.US_ASCII));
    }

    private String mac(String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key());
            return B64.encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
