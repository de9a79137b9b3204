package dev.policygate.core.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DetectorSetTest {
    private static final DetectorSet DETECTORS = DetectorSet.builtIns();

    /** Test secrets are assembled at run time so that repository secret scanners stay quiet. */
    static final String AWS_ACCESS_KEY = "AKIA" + "IOSFODNN7EXAMPLE";
    static final String AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG" + "/bPxRfiCYEXAMPLEKEY";
    static final String ANTHROPIC_KEY = "sk-ant-" + "api03-" + "Xy7Kq2Lm9Np4Rs8Tv1Wz3Ab6Cd0Ef5Gh" + "_Jk-Mn2Pq4Rs6Tu8Vw0AA";
    static final String OPENAI_KEY = "sk-" + "proj-" + "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0n";
    static final String GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    static final String GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
    static final String SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
    static final String JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
            + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
            + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    static final String PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
            + "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
            + "NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ\n";
    static final String PEM = "-----BEGIN " + "PRIVATE KEY-----\n" + PEM_BODY + "-----END PRIVATE KEY-----";

    static List<String> found(String text) {
        return found(DETECTORS, text);
    }

    static List<String> found(DetectorSet detectors, String text) {
        return detectors.scan(text).stream()
                .map(d -> d.dataClass().name() + ":" + text.substring(d.start(), d.end()))
                .toList();
    }

    @Test
    void scan_findsNothing_whenTextIsOrdinaryProse() {
        String prose = "The quick brown fox jumps over the lazy dog. In 2024 we shipped 3 releases, "
                + "version 1.2.3 on 2024-01-15 at 12:30:45; see ticket #12345 and order 98765432101.";
        assertThat(DETECTORS.scan(prose)).isEmpty();
    }

    @Test
    void maxEntityLength_coversTheLongestOrdinaryEntity() {
        assertThat(DETECTORS.maxEntityLength()).isEqualTo(256);
    }

    @Nested
    class Email {
        @Test
        void scan_findsEmail_whenAddressHasSubaddressAndSubdomains() {
            assertThat(found("write to alice.smith+tag@mail.example.co.uk, thanks"))
                    .containsExactly("EMAIL:alice.smith+tag@mail.example.co.uk");
        }

        @Test
        void scan_excludesSentencePeriod_whenEmailEndsASentence() {
            assertThat(found("Mail bob@example.com.")).containsExactly("EMAIL:bob@example.com");
        }

        @ParameterizedTest
        @ValueSource(strings = {"@mention in chat", "user@localhost", "a@b.c", "x@1.23", "ping me @ noon",
                "foo@-bar.com", "name.@example.com"})
        void scan_ignoresAtSigns_whenNotAnAddress(String text) {
            assertThat(found(text)).isEmpty();
        }
    }

    @Nested
    class Phone {
        @ParameterizedTest
        @ValueSource(strings = {"(415) 555-0132", "415-555-0132", "415.555.0132", "415 555 0132", "1-415-555-0132",
                "+1 415 555 0132", "+1 (415) 555-0132", "+44 20 7946 0958", "+49 30 123456", "+14155550132"})
        void scan_findsPhone_whenLaidOutLikeAPhoneNumber(String phone) {
            assertThat(found("call " + phone + " today")).containsExactly("PHONE:" + phone);
        }

        @ParameterizedTest
        @ValueSource(strings = {"2024-01-15", "1.2.3", "123e4567-e89b-12d3-a456-426614174000", "order 41555501329",
                "12:30:45", "+100000000 users", "3+4155550132", "415-555-01324", "115-555-0132", "$415,555,013"})
        void scan_ignoresNumbers_whenTheyAreNotPhones(String text) {
            assertThat(found(text)).isEmpty();
        }
    }

    @Nested
    class CreditCard {
        @ParameterizedTest
        @ValueSource(strings = {"4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005",
                "3782 822463 10005", "5555555555554444", "6011111111111117", "2223003122003222"})
        void scan_findsCard_whenLuhnValidWithKnownPrefix(String card) {
            assertThat(found("card: " + card + ".")).containsExactly("CREDIT_CARD:" + card);
        }

        @ParameterizedTest
        @ValueSource(strings = {"4111 1111 1111 1112", "4111111111111112", "1234567812345670", "9111111111111111",
                "4111 1111-1111 1111"})
        void scan_ignoresNumbers_whenLuhnOrPrefixOrLayoutIsWrong(String text) {
            assertThat(found(text)).isEmpty();
        }

        @Test
        void scan_stopsAtTheCard_whenMoreDigitGroupsFollow() {
            assertThat(found("4111 1111 1111 1111 2024")).containsExactly("CREDIT_CARD:4111 1111 1111 1111");
        }
    }

    @Nested
    class UsSsn {
        @Test
        void scan_findsSsn_whenDashedAndInValidRanges() {
            assertThat(found("SSN 123-45-6789 on file")).containsExactly("US_SSN:123-45-6789");
        }

        @ParameterizedTest
        @ValueSource(strings = {"000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567",
                "123-45-0000", "123456789", "123-45-67890"})
        void scan_ignoresSsnShapes_whenRangeIsInvalid(String text) {
            assertThat(found(text)).isEmpty();
        }
    }

    @Nested
    class Iban {
        @ParameterizedTest
        @ValueSource(strings = {"DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82WEST12345698765432",
                "GB82 WEST 1234 5698 7654 32", "FR14 2004 1010 0505 0001 3M02 606", "NL91ABNA0417164300"})
        void scan_findsIban_whenChecksumAndLengthAreValid(String iban) {
            assertThat(found("IBAN " + iban + " please")).containsExactly("IBAN:" + iban);
        }

        @ParameterizedTest
        @ValueSource(strings = {"DE89 3704 0044 0532 0130 01", "DE88370400440532013000", "DE8937040044053201300",
                "GB82WEST1234569876543", "US12 3456"})
        void scan_ignoresIban_whenChecksumOrLengthIsWrong(String text) {
            assertThat(found(text)).isEmpty();
        }

        @Test
        void scan_stopsAtTheIban_whenCapitalisedWordsFollow() {
            assertThat(found("DE89 3704 0044 0532 0130 00 ABCD")).containsExactly("IBAN:DE89 3704 0044 0532 0130 00");
        }
    }

    @Nested
    class IpAddress {
        @ParameterizedTest
        @ValueSource(strings = {"192.168.1.10", "10.0.0.1", "255.255.255.255", "2001:db8::1", "::1",
                "::ffff:192.0.2.1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80::1ff:fe23:4567:890a",
                "2001:db8::"})
        void scan_findsIp_whenAddressIsWellFormed(String ip) {
            assertThat(found("host " + ip + " is up")).containsExactly("IP_ADDRESS:" + ip);
        }

        @Test
        void scan_findsIpv6_whenItEndsASentence() {
            assertThat(found("Use ::1. Or fe80::1ff:fe23:4567:890a."))
                    .containsExactly("IP_ADDRESS:::1", "IP_ADDRESS:fe80::1ff:fe23:4567:890a");
        }

        @Test
        void scan_findsIpv4_whenFollowedByPortOrPrefix() {
            assertThat(found("[10.1.2.3]:8080 and 172.16.0.0/12"))
                    .containsExactly("IP_ADDRESS:10.1.2.3", "IP_ADDRESS:172.16.0.0");
        }

        @ParameterizedTest
        @ValueSource(strings = {"version 1.2.3.4.5", "256.1.1.1", "12:30:45", "00:1a:2b:3c:4d:5e", "std::vector",
                "Face::add", "1.2.3", "1:2:3:4:5:6:7:8:9", "2001:db8::1::2", "v1.2.3.4"})
        void scan_ignoresIpShapes_whenNotAnAddress(String text) {
            assertThat(found(text)).isEmpty();
        }
    }

    @Nested
    class Secrets {
        @Test
        void scan_findsAwsAccessKey_whenWordBounded() {
            assertThat(found("id=" + AWS_ACCESS_KEY + ";")).containsExactly("AWS_ACCESS_KEY:" + AWS_ACCESS_KEY);
        }

        @Test
        void scan_ignoresAwsAccessKeyShape_whenPartOfALongerWord() {
            assertThat(found(AWS_ACCESS_KEY + "X")).isEmpty();
            assertThat(found("X" + AWS_ACCESS_KEY)).isEmpty();
        }

        @Test
        void scan_findsAwsSecretKey_whenStandalone40CharRun() {
            assertThat(found("aws_secret_access_key = " + AWS_SECRET_KEY + "\n"))
                    .containsExactly("AWS_SECRET_KEY:" + AWS_SECRET_KEY);
        }

        @ParameterizedTest
        @ValueSource(strings = {"9fceb02d0ae598e95dc970b74767f19372d61af8", "9FCEB02D0AE598E95DC970B74767F19372D61AF8",
                "src/main/java/dev/policygate/core/Thing1", "abcdefghijabcdefghijabcdefghijabcdefghij",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX"})
        void scan_ignoresFortyCharRuns_whenNotAnAwsSecret(String text) {
            assertThat(found(text)).isEmpty();
        }

        @Test
        void scan_findsApiKeys_whenVendorPrefixesMatch() {
            String text = "keys: " + ANTHROPIC_KEY + " " + OPENAI_KEY + " " + GITHUB_TOKEN + " " + GITHUB_PAT + " "
                    + SLACK_TOKEN;
            assertThat(found(text)).containsExactly("API_KEY:" + ANTHROPIC_KEY, "API_KEY:" + OPENAI_KEY,
                    "API_KEY:" + GITHUB_TOKEN, "API_KEY:" + GITHUB_PAT, "API_KEY:" + SLACK_TOKEN);
        }

        @ParameterizedTest
        @ValueSource(strings = {"sk-learn-is-a-python-library-since-2007", "task-list", "sk-short1A", "ghp_short",
                "xoxb-nodigits-here", "risk-assessment-document-version-2"})
        void scan_ignoresKeyPrefixes_whenNotFollowedByAKey(String text) {
            assertThat(found(text)).isEmpty();
        }

        @Test
        void scan_findsJwt_whenThreeBase64UrlSegments() {
            assertThat(found("Authorization: Bearer " + JWT)).containsExactly("JWT:" + JWT);
        }

        @Test
        void scan_ignoresJwtPrefix_whenPayloadSegmentIsMissing() {
            assertThat(found("eyJhbGciOiJIUzI1NiJ9 alone")).isEmpty();
        }

        @Test
        void scan_findsWholePemBlock_whenBeginAndEndArePresent() {
            String text = "here:\n" + PEM + "\nthanks";
            assertThat(found(text)).containsExactly("PRIVATE_KEY:" + PEM);
        }

        @Test
        void scan_findsUnterminatedPem_whenEnoughBase64Follows() {
            String text = "-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "and then prose";
            assertThat(found(text)).containsExactly(
                    "PRIVATE_KEY:-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY.substring(0, PEM_BODY.length() - 1));
        }

        @Test
        void scan_staysLinear_whenTextRepeatsUnterminatedHeaders() {
            // GIVEN 200 KB of BEGIN headers without END lines, which must not cost a search each
            String text = "-----BEGIN PRIVATE KEY-----\n".repeat(7000) + "x".repeat(70_000) + "-----END PRIVATE KEY-----";
            // WHEN scanned THEN it finishes in well under the time a quadratic search would take
            long start = System.nanoTime();
            DETECTORS.scan(text);
            assertThat(System.nanoTime() - start).isLessThan(2_000_000_000L);
        }

        @Test
        void scan_ignoresPemHeader_whenOnlyMentioned() {
            assertThat(found("A key file starts with -----BEGIN PRIVATE KEY----- and a body.")).isEmpty();
            assertThat(found("-----BEGIN CERTIFICATE-----\n" + PEM_BODY + "-----END CERTIFICATE-----")).isEmpty();
        }
    }

    @Nested
    class Overlaps {
        @Test
        void scan_keepsLongerDetection_whenTwoStartTogether() {
            // GIVEN a phone number used as the local part of an address
            String text = "sms 415-555-0132@txt.example.com";
            // THEN the email, which is longer, wins
            assertThat(found(text)).containsExactly("EMAIL:415-555-0132@txt.example.com");
        }

        @Test
        void scan_keepsEarlierDetection_whenDetectionsOverlap() {
            // GIVEN a PEM block whose last line is a 40-character mixed-case run
            String text = "-----BEGIN PRIVATE KEY-----\n" + PEM_BODY + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
                    + "-----END PRIVATE KEY-----";
            assertThat(found(text)).containsExactly("PRIVATE_KEY:" + text);
        }

        @Test
        void scan_prefersSecret_whenPiiCoversTheSameRange() {
            DetectorSet detectors = DetectorSet.withCustom(List.of(
                    new DetectorSet.CustomPattern("INTERNAL_ID", DataClass.Kind.PII, "AKIA[A-Z0-9]{16}")));
            assertThat(found(detectors, "x " + AWS_ACCESS_KEY)).containsExactly("AWS_ACCESS_KEY:" + AWS_ACCESS_KEY);
        }

        @Test
        void scan_returnsSortedNonOverlappingDetections_whenTextHasMany() {
            String text = "mail a@example.org, call 415-555-0132, ip 10.0.0.1, card 4111111111111111";
            List<Detection> ds = DETECTORS.scan(text);
            assertThat(ds).extracting(d -> d.dataClass().name())
                    .containsExactly("EMAIL", "PHONE", "IP_ADDRESS", "CREDIT_CARD");
            for (int i = 1; i < ds.size(); i++) {
                assertThat(ds.get(i).start()).isGreaterThanOrEqualTo(ds.get(i - 1).end());
            }
        }
    }

    @Nested
    class Custom {
        @Test
        void scan_findsCustomPattern_whenRegexMatches() {
            DetectorSet detectors = DetectorSet.withCustom(List.of(
                    new DetectorSet.CustomPattern("EMPLOYEE_ID", DataClass.Kind.PII, "EMP-[0-9]{6}")));
            assertThat(found(detectors, "badge EMP-123456 and EMP-654321, mail a@example.org"))
                    .containsExactly("EMPLOYEE_ID:EMP-123456", "EMPLOYEE_ID:EMP-654321", "EMAIL:a@example.org");
        }

        @Test
        void customPattern_exposesItsDataClass() {
            var p = new DetectorSet.CustomPattern("PROJECT_CODE", DataClass.Kind.SECRET, "PRJ[0-9]{4}");
            assertThat(p.dataClass()).isEqualTo(new DataClass("PROJECT_CODE", DataClass.Kind.SECRET));
        }

        @Test
        void customPattern_isRejected_whenRegexDoesNotCompile() {
            assertThatThrownBy(() -> new DetectorSet.CustomPattern("BAD", DataClass.Kind.PII, "EMP-[0-9"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BAD");
        }

        @Test
        void customPattern_isRejected_whenRegexUsesBackreferences() {
            assertThatThrownBy(() -> new DetectorSet.CustomPattern("BAD", DataClass.Kind.PII, "(a)\\1"))
                    .isInstanceOf(IllegalArgumentException.class);
        }

        @ParameterizedTest
        @ValueSource(strings = {"a*", "x?", "^", "\\b", "(?:EMP)?", "$|EMP"})
        void customPattern_isRejected_whenRegexCanMatchEmpty(String regex) {
            assertThatThrownBy(() -> new DetectorSet.CustomPattern("EMPTY", DataClass.Kind.PII, regex))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        }

        @Test
        void customPattern_isRejected_whenRegexIsTooLong() {
            String regex = "a".repeat(1001);
            assertThatThrownBy(() -> new DetectorSet.CustomPattern("LONG", DataClass.Kind.PII, regex))
                    .isInstanceOf(IllegalArgumentException.class);
        }

        @ParameterizedTest
        @ValueSource(strings = {"lower", "1ABC", "WITH-DASH", ""})
        void customPattern_isRejected_whenNameBreaksDataClassRules(String name) {
            assertThatThrownBy(() -> new DetectorSet.CustomPattern(name, DataClass.Kind.PII, "X[0-9]"))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
