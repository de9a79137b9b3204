package dev.policygate.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.policygate.core.approval.ApprovalLinks;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the approval link verifier. Properties: a link verifies only with the exact id,
 * approver and expiry it was signed for; any change to one of them, or to the signature, is
 * refused; a made-up signature never verifies; link and CSRF signatures are not interchangeable.
 */
class ApprovalLinksFuzzTest {
    private static final ApprovalLinks LINKS = new ApprovalLinks("0123456789abcdef0123456789abcdef".getBytes(
            java.nio.charset.StandardCharsets.US_ASCII));

    @FuzzTest
    void verify_acceptsOnlyTheSignedTriple(FuzzedDataProvider data) {
        String id = data.consumeString(30);
        String approver = data.consumeString(40);
        long exp = data.consumeLong();
        String sig = LINKS.sign(id, approver, exp);
        assertTrue(LINKS.verify(id, approver, exp, sig), "own signature refused");
        assertFalse(LINKS.verifyCsrf(id, approver, exp, sig), "a link signature passed as a CSRF token");

        String id2 = data.consumeString(30);
        String approver2 = data.consumeString(40);
        long exp2 = data.consumeLong();
        String sig2 = data.consumeRemainingAsString();
        boolean same = id.equals(id2) && approver.equals(approver2) && exp == exp2;
        if (!same) {
            assertFalse(LINKS.verify(id2, approver2, exp2, sig), "signature moved to another link");
        }
        if (!sig2.equals(sig) && !sig2.equals(LINKS.sign(id2, approver2, exp2))) {
            assertFalse(LINKS.verify(id2, approver2, exp2, sig2), "made-up signature verified");
        }
        assertFalse(LINKS.verify(id, approver, exp, null));
    }
}
