package dev.policygate.core.approval;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * Seals what the gateway must keep unmasked for a while (a held request, the owner's reply):
 * AES-256-GCM with a key derived from the link-signing secret, and the object's name as
 * associated data, so that a sealed object cannot be read without the secret nor moved to
 * another name. On AWS this comes on top of the bucket's SSE-KMS: a reader of the bucket alone
 * sees nothing.
 *
 * <p>Format: version byte {@code 1}, 12-byte random nonce, ciphertext with the 16-byte tag.
 */
public final class Sealer {
    private static final byte VERSION = 1;
    private static final int NONCE = 12;
    private static final SecureRandom RANDOM = new SecureRandom();
    private final java.util.function.Supplier<byte[]> source;
    private volatile SecretKeySpec key;

    /** @param secret the link-signing secret (at least 32 bytes); a separate key is derived from it */
    public Sealer(byte[] secret) {
        this.key = derive(secret);
        this.source = null;
    }

    /** A secret read on first use (see {@link ApprovalLinks#ApprovalLinks(java.util.function.Supplier)}). */
    public Sealer(java.util.function.Supplier<byte[]> secret) {
        this.source = java.util.Objects.requireNonNull(secret, "secret");
    }

    private SecretKeySpec key() {
        SecretKeySpec k = key;
        if (k == null) {
            synchronized (this) {
                if (key == null) {
                    key = derive(source.get());
                }
                k = key;
            }
        }
        return k;
    }

    private static SecretKeySpec derive(byte[] secret) {
        if (secret == null || secret.length < 32) {
            throw new IllegalArgumentException("the sealing secret must be at least 32 bytes");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return new SecretKeySpec(mac.doFinal("policygate sealed objects v1".getBytes(StandardCharsets.UTF_8)),
                    "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    public byte[] seal(String name, byte[] plain) {
        byte[] nonce = new byte[NONCE];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key(), new GCMParameterSpec(128, nonce));
            c.updateAAD(name.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = c.doFinal(plain);
            return ByteBuffer.allocate(1 + NONCE + sealed.length).put(VERSION).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM unavailable", e);
        }
    }

    /** @throws IOException if the object was not sealed under this name with this secret, or was changed */
    public byte[] open(String name, byte[] sealed) throws IOException {
        if (sealed == null || sealed.length < 1 + NONCE + 16 || sealed[0] != VERSION) {
            throw new IOException("not a sealed object");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key(), new GCMParameterSpec(128, sealed, 1, NONCE));
            c.updateAAD(name.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(sealed, 1 + NONCE, sealed.length - 1 - NONCE);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new IOException("a sealed object failed its integrity check");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM unavailable", e);
        }
    }
}
