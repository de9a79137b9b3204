package dev.policygate.core.masking;

import static dev.policygate.core.masking.StreamEvents.blockStart;
import static dev.policygate.core.masking.StreamEvents.blockStop;
import static dev.policygate.core.masking.StreamEvents.chunks;
import static dev.policygate.core.masking.StreamEvents.data;
import static dev.policygate.core.masking.StreamEvents.emittedText;
import static dev.policygate.core.masking.StreamEvents.inputJsonDelta;
import static dev.policygate.core.masking.StreamEvents.messageDelta;
import static dev.policygate.core.masking.StreamEvents.messageStart;
import static dev.policygate.core.masking.StreamEvents.messageStop;
import static dev.policygate.core.masking.StreamEvents.obj;
import static dev.policygate.core.masking.StreamEvents.ping;
import static dev.policygate.core.masking.StreamEvents.signatureDelta;
import static dev.policygate.core.masking.StreamEvents.textDelta;
import static dev.policygate.core.masking.StreamEvents.textStart;
import static dev.policygate.core.masking.StreamEvents.textStream;
import static dev.policygate.core.masking.StreamEvents.thinkingDelta;
import static dev.policygate.core.masking.StreamEvents.thinkingStart;
import static dev.policygate.core.masking.StreamEvents.toolUseStart;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StreamingReplyMaskerTest {
    private static final String AWS_ACCESS_KEY = "AKIA" + "IOSFODNN7EXAMPLE";
    private static final String PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
            + "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
            + "NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ\n";
    private static final String PEM = "-----BEGIN " + "PRIVATE KEY-----\n" + PEM_BODY + "-----END PRIVATE KEY-----";

    private final TextMasker masker = new TextMasker(DetectorSet.builtIns(),
            new MaskingConfig(MaskingStrategy.REDACT, Map.of(), null));
    private final List<SseEvent> emitted = new ArrayList<>();
    private final StreamingReplyMasker stream = new StreamingReplyMasker(masker, UnmaskDecider.MASK_ALL, emitted::add);

    private void feed(List<SseEvent> events) {
        events.forEach(stream::onEvent);
        stream.onComplete();
    }

    private String masked(String text) {
        return masker.mask(text, UnmaskDecider.MASK_ALL).text();
    }

    private List<String> emittedDeltaTexts() {
        List<String> out = new ArrayList<>();
        for (SseEvent e : emitted) {
            if ("content_block_delta".equals(e.event())) {
                out.add(data(e).path("delta").path("text").asText(""));
            }
        }
        return out;
    }

    @Test
    void onEvent_masksEmail_whenItIsSplitAcrossThreeDeltas() {
        // GIVEN an address that arrives in three pieces
        List<String> pieces = List.of("Please contact ali", "ce.smith@exam", "ple.com for details.");
        // WHEN streamed
        feed(textStream(pieces));
        // THEN the client sees it masked, and no piece of it ever left
        assertThat(emittedText(emitted, 0)).isEqualTo("Please contact [EMAIL] for details.");
        assertThat(emittedDeltaTexts()).noneMatch(t -> t.contains("ali") || t.contains("exam"));
        assertThat(stream.masked()).containsExactly(DataClass.EMAIL);
        assertThat(stream.completed()).isTrue();
    }

    @Test
    void onEvent_masksCreditCard_whenItArrivesOneCharacterAtATime() {
        String text = "Your card 4111 1111 1111 1111 is on file. " + "Some more words follow here. ".repeat(20);
        feed(textStream(chunks(text, 1)));
        assertThat(emittedText(emitted, 0)).isEqualTo(masked(text)).contains("[CREDIT_CARD]");
        assertThat(emittedDeltaTexts()).noneMatch(t -> t.matches(".*\\d.*"));
    }

    @Test
    void onEvent_masksPrivateKey_whenPemBlockIsSplitAcrossDeltas() {
        // GIVEN a key longer than the ordinary hold-back, arriving in small pieces after some prose
        String text = "Here is the key you asked for:\n" + PEM + "\nKeep it safe. " + "Filler text. ".repeat(30);
        // WHEN streamed seven characters at a time
        feed(textStream(chunks(text, 7)));
        // THEN it is redacted as a whole, and no base64 line was emitted
        assertThat(emittedText(emitted, 0)).isEqualTo(masked(text)).contains("[PRIVATE_KEY]");
        assertThat(emittedDeltaTexts()).noneMatch(t -> t.contains("MIIE") || t.contains("BEGIN"));
    }

    @Test
    void onEvent_redactsOpenPrivateKey_whenItOutgrowsTheHoldLimit() {
        // GIVEN a BEGIN header followed by more than 64 KB of base64 and no END line
        String line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n";
        List<SseEvent> events = new ArrayList<>();
        events.add(messageStart());
        events.add(textStart(0));
        events.add(textDelta(0, "key:\n-----BEGIN " + "PRIVATE KEY-----\n"));
        for (int i = 0; i < 1100; i++) {
            events.add(textDelta(0, line));
        }
        events.add(textDelta(0, "-----END PRIVATE KEY-----\nafter"));
        events.add(blockStop(0));
        events.add(messageDelta("end_turn", 9));
        events.add(messageStop());
        // WHEN streamed
        feed(events);
        // THEN it is sent once as a placeholder and nothing of it leaks
        assertThat(emittedText(emitted, 0)).isEqualTo("key:\n[PRIVATE_KEY]\nafter");
    }

    @Test
    void onEvent_doesNotSplitJwt_whenTokenIsLongerThanTheHoldBack() {
        String jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + "a".repeat(400) + "fQ." + "s".repeat(300);
        String text = "token: " + jwt + " end. " + "More words. ".repeat(30);
        feed(textStream(chunks(text, 5)));
        assertThat(emittedText(emitted, 0)).isEqualTo(masked(text)).contains("[JWT]");
        assertThat(emittedDeltaTexts()).noneMatch(t -> t.contains("eyJ") || t.contains("aaaa"));
    }

    @Test
    void onEvent_neverLeaksAnEntity_acrossManyRandomSplits() {
        // GIVEN entities of every class, some with spaces inside (cards, phones, IBANs)
        String text = ("Mail bob.jones@example.org, call +1 415 555 0132 or (415) 555-0132. Card 4111 1111 1111 1111 "
                + "and 3782 822463 10005, IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, host 10.20.30.40, "
                + "key " + AWS_ACCESS_KEY + ". Plain words follow here. ").repeat(3);
        String expected = masked(text);
        for (int seed = 1; seed <= 60; seed++) {
            Random random = new Random(seed);
            int maxPiece = 1 + seed % 24;
            List<String> pieces = new ArrayList<>();
            for (int i = 0; i < text.length(); ) {
                int n = 1 + random.nextInt(maxPiece);
                pieces.add(text.substring(i, Math.min(text.length(), i + n)));
                i += n;
            }
            List<SseEvent> out = new ArrayList<>();
            StreamingReplyMasker s = new StreamingReplyMasker(masker, UnmaskDecider.MASK_ALL, out::add);
            textStream(pieces).forEach(s::onEvent);
            s.onComplete();
            // THEN every split gives exactly the whole-text masking
            assertThat(emittedText(out, 0)).as("seed " + seed).isEqualTo(expected);
        }
    }

    @Test
    void onEvent_emitsSameTextAsFullMasking_whenManyEntitiesArriveInRandomPieces() {
        // GIVEN a long text with entities of every class, split at random points
        String text = ("Dear team, mail bob.jones@example.org or call (415) 555-0132. Card 4111-1111-1111-1111, "
                + "SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00, host 10.20.30.40 and fe80::1ff:fe23:4567:890a. "
                + "Key " + AWS_ACCESS_KEY + " and token ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8. Versions 1.2.3.4.5 "
                + "and dates 2024-01-15 stay. ").repeat(12);
        Random random = new Random(7);
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < text.length(); ) {
            int n = 1 + random.nextInt(12);
            pieces.add(text.substring(i, Math.min(text.length(), i + n)));
            i += n;
        }
        // WHEN streamed
        feed(textStream(pieces));
        // THEN the client text equals masking the whole text at once
        assertThat(emittedText(emitted, 0)).isEqualTo(masked(text));
        assertThat(stream.detected()).hasSize(8);
    }

    @Test
    void onEvent_sendsTextAsItArrives_holdingOnlyATailThatCouldStillBecomeAnEntity() {
        // GIVEN prose arriving in two deltas
        feed(textStream(List.of("Hello ", "world.")));
        // THEN the first word goes out at once; the last token waits for the block to stop
        List<String> types = emitted.stream().map(SseEvent::event).toList();
        assertThat(types).containsExactly("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_delta", "content_block_stop", "message_delta", "message_stop");
        assertThat(emittedText(emitted, 0)).isEqualTo("Hello world.");
    }

    @Test
    void onEvent_holdsDigitGroupsSplitBySpaces_soACardOrPhoneSplitAcrossDeltasIsMasked() {
        // GIVEN a card number and a phone number arriving group by group
        feed(textStream(List.of("card 4111 ", "1111 ", "1111 ", "1111 and call +44 ", "20 7946 ", "0958 thanks")));
        // THEN neither leaks, and the text equals masking it whole
        String text = "card 4111 1111 1111 1111 and call +44 20 7946 0958 thanks";
        assertThat(emittedText(emitted, 0)).isEqualTo(masked(text)).doesNotContain("7946").doesNotContain("4111 1111");
    }

    @Test
    void onEvent_keepsBlocksInOrder_whenThinkingAndTextAreInterleavedWithPings() {
        // GIVEN a thinking block and a text block, with pings in between
        String thinking = "The user is carol@example.com; I should not repeat it. " + "Thinking more. ".repeat(25);
        String text = "I can't share carol@example.com here. " + "Answer text. ".repeat(25);
        List<SseEvent> events = new ArrayList<>();
        events.add(messageStart());
        events.add(thinkingStart(0));
        chunks(thinking, 9).forEach(c -> {
            events.add(thinkingDelta(0, c));
            events.add(ping());
        });
        events.add(signatureDelta(0, "EqQBCgIYAh=="));
        events.add(blockStop(0));
        events.add(textStart(1));
        chunks(text, 4).forEach(c -> events.add(textDelta(1, c)));
        events.add(ping());
        events.add(blockStop(1));
        events.add(messageDelta("end_turn", 120));
        events.add(messageStop());
        // WHEN streamed
        feed(events);
        // THEN both blocks are masked and the event order is valid
        assertThat(emittedText(emitted, 0)).isEqualTo(masked(thinking)).contains("[EMAIL]");
        assertThat(emittedText(emitted, 1)).isEqualTo(masked(text)).contains("[EMAIL]");
        assertValidOrder(emitted);
        ObjectNode message = stream.assembledMessage();
        assertThat(message.at("/content/0/thinking").asText()).isEqualTo(masked(thinking));
        assertThat(message.at("/content/0/signature").asText()).isEqualTo("EqQBCgIYAh==");
        assertThat(message.at("/content/1/text").asText()).isEqualTo(masked(text));
    }

    @Test
    void onEvent_masksToolInput_whenAwsKeyArrivesInPartialJson() {
        // GIVEN tool input JSON split in the middle of an access key
        String json = "{\"command\": \"aws configure set aws_access_key_id " + AWS_ACCESS_KEY + "\", \"n\": 1}";
        List<SseEvent> events = new ArrayList<>();
        events.add(messageStart());
        events.add(toolUseStart(0, "toolu_01", "bash"));
        events.add(inputJsonDelta(0, ""));
        chunks(json, 11).forEach(c -> events.add(inputJsonDelta(0, c)));
        events.add(blockStop(0));
        events.add(messageDelta("tool_use", 30));
        events.add(messageStop());
        // WHEN streamed
        feed(events);
        // THEN one input_json_delta with the masked JSON is sent, right before the stop
        List<SseEvent> deltas = emitted.stream().filter(e -> e.event().equals("content_block_delta")).toList();
        assertThat(deltas).hasSize(1);
        assertThat(emitted.get(emitted.indexOf(deltas.get(0)) + 1).event()).isEqualTo("content_block_stop");
        String partial = data(deltas.get(0)).at("/delta/partial_json").asText();
        assertThat(partial).doesNotContain(AWS_ACCESS_KEY).contains("[AWS_ACCESS_KEY]");
        ObjectNode message = stream.assembledMessage();
        assertThat(message.at("/content/0/input/command").asText())
                .isEqualTo("aws configure set aws_access_key_id [AWS_ACCESS_KEY]");
        assertThat(message.at("/content/0/input/n").asInt()).isEqualTo(1);
        assertThat(message.at("/content/0/id").asText()).isEqualTo("toolu_01");
    }

    @Test
    void onEvent_throwsMaskingException_whenToolInputIsNotJson() {
        stream.onEvent(messageStart());
        stream.onEvent(toolUseStart(0, "toolu_01", "bash"));
        stream.onEvent(inputJsonDelta(0, "{\"command\": \"rm -rf"));
        assertThatThrownBy(() -> stream.onEvent(blockStop(0))).isInstanceOf(MaskingException.class);
        assertThat(emitted).extracting(SseEvent::event).doesNotContain("content_block_stop");
        assertThatThrownBy(() -> stream.onEvent(messageStop())).isInstanceOf(MaskingException.class);
    }

    @Test
    void onEvent_preservesUsageAndStopReason_inEventsAndAssembledMessage() {
        feed(textStream(List.of("Mail dave@example.com", " now.")));
        SseEvent delta = emitted.stream().filter(e -> e.event().equals("message_delta")).findFirst().orElseThrow();
        assertThat(data(delta).at("/delta/stop_reason").asText()).isEqualTo("end_turn");
        ObjectNode message = stream.assembledMessage();
        assertThat(message.get("stop_reason").asText()).isEqualTo("end_turn");
        assertThat(message.get("stop_sequence").isNull()).isTrue();
        assertThat(message.at("/usage/output_tokens").asInt()).isEqualTo(42);
        assertThat(message.at("/usage/input_tokens").asInt()).isEqualTo(25);
        assertThat(message.at("/content/0/text").asText()).isEqualTo("Mail [EMAIL] now.");
        assertThat(message.get("id").asText()).isEqualTo("msg_01");
    }

    @Test
    void onEvent_passesEventsThroughUnchanged_whenNothingIsSensitive() {
        List<SseEvent> events = textStream(List.of("x".repeat(300) + " ", "fine"));
        feed(events);
        assertThat(emitted.get(0)).isSameAs(events.get(0));
        assertThat(emitted.get(1)).isSameAs(events.get(1));
        assertThat(emitted.get(2)).isSameAs(events.get(2));
        assertThat(emitted.get(emitted.size() - 2)).isSameAs(events.get(events.size() - 2));
        assertThat(emitted.get(emitted.size() - 1)).isSameAs(events.get(events.size() - 1));
    }

    @Test
    void onEvent_masksOpeningText_whenContentBlockStartCarriesText() {
        stream.onEvent(messageStart());
        stream.onEvent(blockStart(0, obj().put("type", "text").put("text", "Reach me at erin@exa")));
        stream.onEvent(textDelta(0, "mple.com today"));
        stream.onEvent(blockStop(0));
        assertThat(data(emitted.get(1)).at("/content_block/text").asText()).isEmpty();
        assertThat(emittedText(emitted, 0)).isEqualTo("Reach me at [EMAIL] today");
    }

    @Test
    void onEvent_masksCitedText_whenCitationsDeltaQuotesAnEntity() {
        // GIVEN a citation quoting a document that contains an address
        ObjectNode citation = obj().put("type", "char_location").put("cited_text", "owner: hank@example.com")
                .put("document_index", 0);
        ObjectNode delta = obj().put("type", "citations_delta");
        delta.set("citation", citation);
        stream.onEvent(messageStart());
        stream.onEvent(textStart(0));
        // WHEN it streams
        stream.onEvent(StreamEvents.delta(0, delta));
        stream.onEvent(textDelta(0, "The owner is listed."));
        stream.onEvent(blockStop(0));
        // THEN the quote is masked on the wire and in the assembled message
        assertThat(data(emitted.get(2)).at("/delta/citation/cited_text").asText()).isEqualTo("owner: [EMAIL]");
        assertThat(stream.assembledMessage().at("/content/0/citations/0/cited_text").asText())
                .isEqualTo("owner: [EMAIL]");
    }

    @Test
    void onEvent_masksServerToolResult_whenItArrivesWholeInContentBlockStart() {
        ObjectNode result = obj().put("type", "web_fetch_tool_result").put("tool_use_id", "srvtoolu_1");
        ObjectNode source = obj().put("type", "text").put("media_type", "text/plain")
                .put("data", "contact ivan@example.com");
        ObjectNode document = obj().put("type", "document");
        document.set("source", source);
        result.set("content", obj().put("type", "web_fetch_result").put("url", "https://example.com")
                .set("content", document));
        stream.onEvent(messageStart());
        stream.onEvent(blockStart(0, result));
        assertThat(data(emitted.get(1)).at("/content_block/content/content/source/data").asText())
                .isEqualTo("contact [EMAIL]");
    }

    @Test
    void onEvent_passesUnknownEventsThrough_inOrder() {
        SseEvent unknown = new SseEvent("future_event", "not even json");
        SseEvent error = new SseEvent("error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}");
        stream.onEvent(messageStart());
        stream.onEvent(unknown);
        stream.onEvent(error);
        assertThat(emitted).containsSubsequence(unknown, error);
    }

    @Test
    void onEvent_masksStringsInUnknownAndErrorEvents() {
        stream.onEvent(messageStart());
        stream.onEvent(new SseEvent("future_event", "{\"note\":\"mail gina@example.com\"}"));
        stream.onEvent(new SseEvent("error", "{\"type\":\"error\",\"error\":{\"message\":\"bad gina@example.com\"}}"));
        stream.onEvent(new SseEvent("odd", "plain gina@example.com"));
        assertThat(emitted.subList(1, emitted.size())).extracting(SseEvent::data)
                .containsExactly("{\"note\":\"mail [EMAIL]\"}",
                        "{\"type\":\"error\",\"error\":{\"message\":\"bad [EMAIL]\"}}", "plain [EMAIL]");
    }

    @Test
    void onComplete_dropsHeldText_whenStreamEndsWithoutMessageStop() {
        // GIVEN a stream cut off mid-block
        String text = "Intro words here. ".repeat(30) + "secret mail frank@example.com";
        stream.onEvent(messageStart());
        stream.onEvent(textStart(0));
        chunks(text, 10).forEach(c -> stream.onEvent(textDelta(0, c)));
        // WHEN it ends without message_stop
        stream.onComplete();
        // THEN the held tail is never sent, and the failure is visible
        assertThat(stream.completed()).isFalse();
        String sent = emittedText(emitted, 0);
        assertThat(masked(text)).startsWith(sent);
        assertThat(sent).doesNotContain("frank").hasSizeLessThan(text.length());
        assertThat(stream.assembledMessage().at("/content/0/text").asText()).isEqualTo(sent);
    }

    @Test
    void onEvent_propagatesDownstreamFailure_unchanged() {
        StreamingReplyMasker failing = new StreamingReplyMasker(masker, UnmaskDecider.MASK_ALL, e -> {
            throw new UncheckedIOException(new IOException("client gone"));
        });
        assertThatThrownBy(() -> failing.onEvent(messageStart())).isInstanceOf(UncheckedIOException.class);
    }

    @Test
    void onEvent_sendsEntities_whenReaderMaySeeThem() {
        StreamingReplyMasker open = new StreamingReplyMasker(masker, c -> true, emitted::add);
        textStream(List.of("mail gina@", "example.com")).forEach(open::onEvent);
        assertThat(emittedText(emitted, 0)).isEqualTo("mail gina@example.com");
        assertThat(open.detected()).containsExactly(DataClass.EMAIL);
        assertThat(open.masked()).isEmpty();
    }

    @Test
    void assembledMessage_isNull_beforeMessageStart() {
        assertThat(stream.assembledMessage()).isNull();
    }

    /** The Messages API stream grammar: start, then blocks opened, fed and closed, then delta and stop. */
    private static void assertValidOrder(List<SseEvent> events) {
        assertThat(events.get(0).event()).isEqualTo("message_start");
        assertThat(events.get(events.size() - 1).event()).isEqualTo("message_stop");
        Set<Integer> open = new HashSet<>();
        Set<Integer> closed = new HashSet<>();
        boolean messageDelta = false;
        for (SseEvent e : events.subList(1, events.size() - 1)) {
            JsonNode d = data(e);
            int index = d.path("index").asInt(-1);
            switch (e.event()) {
                case "content_block_start" -> {
                    assertThat(messageDelta).isFalse();
                    assertThat(open).as("one block at a time").isEmpty();
                    assertThat(closed).doesNotContain(index);
                    open.add(index);
                }
                case "content_block_delta" -> assertThat(open).containsExactly(index);
                case "content_block_stop" -> {
                    assertThat(open).containsExactly(index);
                    open.remove(index);
                    closed.add(index);
                }
                case "message_delta" -> {
                    assertThat(open).isEmpty();
                    messageDelta = true;
                }
                case "ping" -> {
                }
                default -> throw new AssertionError("unexpected event " + e.event());
            }
        }
        assertThat(messageDelta).isTrue();
    }
}
