package dev.policygate.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.json.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplyMaskerTest {
    private final ReplyMasker masker = new ReplyMasker(new TextMasker(DetectorSet.builtIns(),
            new MaskingConfig(MaskingStrategy.REDACT, Map.of(), null)));

    static ObjectNode json(String text) {
        try {
            return (ObjectNode) Json.mapper().readTree(text.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void maskMessage_masksTextAndThinking_inPlace() {
        // GIVEN a reply whose thinking and text mention an address
        ObjectNode message = json("""
                {'id':'msg_1','type':'message','role':'assistant','content':[
                  {'type':'thinking','thinking':'user is bob@example.com','signature':'sig=='},
                  {'type':'text','text':'Mail bob@example.com now'}],
                 'stop_reason':'end_turn','usage':{'input_tokens':3,'output_tokens':9}}""");
        // WHEN masked for a reader without read_unmasked
        MaskReport report = masker.maskMessage(message, UnmaskDecider.MASK_ALL);
        // THEN both are masked, and everything else is untouched
        assertThat(message.at("/content/0/thinking").asText()).isEqualTo("user is [EMAIL]");
        assertThat(message.at("/content/0/signature").asText()).isEqualTo("sig==");
        assertThat(message.at("/content/1/text").asText()).isEqualTo("Mail [EMAIL] now");
        assertThat(message.at("/usage/output_tokens").asInt()).isEqualTo(9);
        assertThat(report.detected()).containsExactly(DataClass.EMAIL);
        assertThat(report.masked()).containsExactly(DataClass.EMAIL);
    }

    @Test
    void maskMessage_masksEveryStringInToolInput_recursively() {
        ObjectNode message = json("""
                {'content':[{'type':'tool_use','id':'toolu_1','name':'send','input':{
                  'to':'bob@example.com','cc':['eve@example.com', 3, true],
                  'meta':{'card':'4111111111111111','note':'fine'}}},
                  {'type':'server_tool_use','id':'srvtoolu_1','name':'web_search','input':{'query':'who is 10.0.0.1'}}]}""");
        MaskReport report = masker.maskMessage(message, UnmaskDecider.MASK_ALL);
        assertThat(message.at("/content/0/input/to").asText()).isEqualTo("[EMAIL]");
        assertThat(message.at("/content/0/input/cc/0").asText()).isEqualTo("[EMAIL]");
        assertThat(message.at("/content/0/input/cc/1").asInt()).isEqualTo(3);
        assertThat(message.at("/content/0/input/meta/card").asText()).isEqualTo("[CREDIT_CARD]");
        assertThat(message.at("/content/0/input/meta/note").asText()).isEqualTo("fine");
        assertThat(message.at("/content/0/id").asText()).isEqualTo("toolu_1");
        assertThat(message.at("/content/1/input/query").asText()).isEqualTo("who is [IP_ADDRESS]");
        assertThat(report.masked()).containsExactlyInAnyOrder(DataClass.EMAIL, DataClass.CREDIT_CARD,
                DataClass.IP_ADDRESS);
    }

    @Test
    void maskMessage_masksCitedTextAndNestedToolResults() {
        ObjectNode message = json("""
                {'content':[
                  {'type':'text','text':'see','citations':[{'type':'char_location','cited_text':'SSN 123-45-6789'}]},
                  {'type':'web_fetch_tool_result','tool_use_id':'srvtoolu_2','content':{'type':'web_fetch_result',
                    'url':'https://example.com','content':{'type':'document','source':{'type':'text',
                    'media_type':'text/plain','data':'owner: eve@example.com'}}}},
                  {'type':'redacted_thinking','data':'bob@example.com'}]}""");
        masker.maskMessage(message, UnmaskDecider.MASK_ALL);
        assertThat(message.at("/content/0/citations/0/cited_text").asText()).isEqualTo("SSN [US_SSN]");
        assertThat(message.at("/content/1/content/content/source/data").asText()).isEqualTo("owner: [EMAIL]");
        assertThat(message.at("/content/2/data").asText()).isEqualTo("bob@example.com");
    }

    @Test
    void maskMessage_leavesEntities_whenReaderMaySeeThem() {
        ObjectNode message = json("{'content':[{'type':'text','text':'bob@example.com'}]}");
        MaskReport report = masker.maskMessage(message, c -> true);
        assertThat(message.at("/content/0/text").asText()).isEqualTo("bob@example.com");
        assertThat(report.detected()).containsExactly(DataClass.EMAIL);
        assertThat(report.masked()).isEmpty();
    }

    @Test
    void maskRequestMessages_masksSystemMessagesToolResultsAndTextDocuments() {
        // GIVEN a request with PII in every text-bearing place, and an image
        ObjectNode request = json("""
                {'model':'claude-sonnet-4-5','max_tokens':100,
                 'system':[{'type':'text','text':'Admin is root@example.com'}],
                 'messages':[
                   {'role':'user','content':'My SSN is 123-45-6789'},
                   {'role':'assistant','content':[{'type':'tool_use','id':'t1','name':'lookup','input':{'ip':'10.0.0.1'}}]},
                   {'role':'user','content':[
                     {'type':'tool_result','tool_use_id':'t1','content':'owner bob@example.com'},
                     {'type':'tool_result','tool_use_id':'t2','content':[{'type':'text','text':'card 4111111111111111'}]},
                     {'type':'document','source':{'type':'text','media_type':'text/plain','data':'call (415) 555-0132'}},
                     {'type':'image','source':{'type':'base64','media_type':'image/png','data':'bob@example.com'}}]}]}""");
        // WHEN masked
        MaskReport report = masker.maskRequestMessages(request, UnmaskDecider.MASK_ALL);
        // THEN text is masked and binary sources are left alone
        assertThat(request.at("/system/0/text").asText()).isEqualTo("Admin is [EMAIL]");
        assertThat(request.at("/messages/0/content").asText()).isEqualTo("My SSN is [US_SSN]");
        assertThat(request.at("/messages/1/content/0/input/ip").asText()).isEqualTo("[IP_ADDRESS]");
        assertThat(request.at("/messages/2/content/0/content").asText()).isEqualTo("owner [EMAIL]");
        assertThat(request.at("/messages/2/content/1/content/0/text").asText()).isEqualTo("card [CREDIT_CARD]");
        assertThat(request.at("/messages/2/content/2/source/data").asText()).isEqualTo("call [PHONE]");
        assertThat(request.at("/messages/2/content/3/source/data").asText()).isEqualTo("bob@example.com");
        assertThat(request.at("/model").asText()).isEqualTo("claude-sonnet-4-5");
        assertThat(report.masked()).hasSize(5);
    }

    @Test
    void maskRequestMessages_masksSystemString_whenSystemIsPlainText() {
        ObjectNode request = json("{'system':'key AKIAIOSFODNN7EXAMPLE','messages':[]}");
        masker.maskRequestMessages(request, UnmaskDecider.MASK_ALL);
        assertThat(request.get("system").asText()).isEqualTo("key [AWS_ACCESS_KEY]");
    }

    /** A private key whose BEGIN line is one text block and whose body and END line are the next. */
    private static ObjectNode keySplitOverTwoBlocks() {
        ObjectNode request = json("{'messages':[{'role':'user','content':[{'type':'text','text':'x'},"
                + "{'type':'text','text':'y'}]}]}");
        ArrayNode blocks = (ArrayNode) request.at("/messages/0/content");
        ((ObjectNode) blocks.get(0)).put("text", "here is my key -----BEGIN PRIVATE KEY-----");
        ((ObjectNode) blocks.get(1)).put("text", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "A".repeat(48) + "\n-----END PRIVATE KEY-----\nthanks");
        return request;
    }

    @Test
    void maskRequestMessages_acrossParts_masksEachPieceOfAnEntityThatRunsFromOneStringIntoTheNext() {
        // GIVEN a request whose private key starts in one text block and ends in the next
        ObjectNode request = keySplitOverTwoBlocks();
        // (masked string by string, neither half is an entity, so both would go out as they are)
        ObjectNode alone = request.deepCopy();
        assertThat(masker.maskRequestMessages(alone, UnmaskDecider.MASK_ALL).masked()).isEmpty();
        assertThat(alone).isEqualTo(request);

        // WHEN masked across parts
        MaskReport report = masker.maskRequestMessages(request, UnmaskDecider.MASK_ALL, true);

        // THEN each block has its piece replaced, the text around the key is kept, and the class is reported
        assertThat(request.at("/messages/0/content/0/text").asText()).isEqualTo("here is my key [PRIVATE_KEY]");
        assertThat(request.at("/messages/0/content/1/text").asText()).isEqualTo("[PRIVATE_KEY]\nthanks");
        assertThat(report.masked()).containsExactly(DataClass.PRIVATE_KEY);
        assertThat(report.maskedAcrossParts()).containsExactly(DataClass.PRIVATE_KEY);
    }

    @Test
    void maskRequestMessages_acrossParts_leavesThePiecesAlone_whenTheReaderMaySeeTheClass() {
        ObjectNode request = keySplitOverTwoBlocks();
        ObjectNode before = request.deepCopy();
        MaskReport report = masker.maskRequestMessages(request, c -> c.equals(DataClass.PRIVATE_KEY), true);
        assertThat(request).isEqualTo(before);
        assertThat(report.detected()).contains(DataClass.PRIVATE_KEY);
        assertThat(report.maskedAcrossParts()).isEmpty();
    }

    @Test
    void maskRequestMessages_acrossParts_stillMasksWhatEachStringHoldsOnItsOwn() {
        // GIVEN a split key, and an address and an AWS key that each sit inside one string
        ObjectNode request = keySplitOverTwoBlocks();
        request.put("system", "ops mail ops@example.com");
        ((ArrayNode) request.at("/messages/0/content")).addObject().put("type", "text")
                .put("text", "AKIA" + "IOSFODNN7EXAMPLE");
        // WHEN masked across parts
        masker.maskRequestMessages(request, UnmaskDecider.MASK_ALL, true);
        // THEN all three are masked, each where it was
        assertThat(request.get("system").asText()).isEqualTo("ops mail [EMAIL]");
        assertThat(request.at("/messages/0/content/0/text").asText()).isEqualTo("here is my key [PRIVATE_KEY]");
        assertThat(request.at("/messages/0/content/2/text").asText()).isEqualTo("[AWS_ACCESS_KEY]");
    }

    @Test
    void maskRequestMessages_acrossParts_drawsEachPieceAsTheBarePlaceholder_evenUnderPartialMasking() {
        // GIVEN partial masking, which shows the last characters of a whole value
        ReplyMasker partial = new ReplyMasker(new TextMasker(DetectorSet.builtIns(),
                new MaskingConfig(MaskingStrategy.PARTIAL, Map.of(), null)));
        ObjectNode request = keySplitOverTwoBlocks();
        // WHEN a key split over two blocks is masked
        partial.maskRequestMessages(request, UnmaskDecider.MASK_ALL, true);
        // THEN neither piece shows any of the key: a tail per piece would show more than of a whole key
        assertThat(request.at("/messages/0/content/0/text").asText()).isEqualTo("here is my key [PRIVATE_KEY]");
        assertThat(request.at("/messages/0/content/1/text").asText()).isEqualTo("[PRIVATE_KEY]\nthanks");
    }
}
