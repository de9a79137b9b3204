package dev.policygate.core.masking;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.Detection;
import dev.policygate.core.json.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Masks a streamed Messages API reply event by event, and forwards the result downstream in the
 * original order. Text and thinking deltas are held back just enough that no entity can be split
 * between what was sent and what is still to come: the last {@link
 * dev.policygate.core.detect.DetectorSet#maxEntityLength()} characters, the trailing
 * whitespace-free token (JWTs, keys), any detected entity touching the cut, and an open PEM
 * private-key block (up to 64 KB, after which it is redacted as a whole). Tool input arriving as
 * partial JSON is held until its block stops, then parsed, masked and sent as one delta.
 *
 * <p>Everything that is sent has been checked; what has not been checked is never sent: if the
 * stream ends without {@code message_stop}, held text is dropped. Internal failures (including
 * unparseable JSON in events we must inspect) raise {@link MaskingException}; the caller must then
 * abort the stream. Exceptions thrown by {@code downstream} propagate unchanged.
 *
 * <p>Limits: one instance per stream, not thread-safe. Custom-pattern matches longer than the
 * hold-back, whitespace-free tokens longer than 8 KB and PEM blocks longer than 64 KB can be split
 * across emitted deltas; the part after the cut is still masked (fail closed).
 */
public final class StreamingReplyMasker {
    static final int TOKEN_HOLD_LIMIT = 8 * 1024;
    static final int KEY_HOLD_LIMIT = 64 * 1024;

    private final TextMasker masker;
    private final ReplyMasker blockMasker;
    private final MaskTally tally;
    private final Consumer<SseEvent> downstream;
    private final int holdBack;
    private final int tokenHoldLimit;
    private final int keyHoldLimit;

    private ObjectNode message;
    private final TreeMap<Integer, EmittedBlock> blocks = new TreeMap<>();
    private final Map<Integer, HeldText> texts = new HashMap<>();
    private final Map<Integer, StringBuilder> toolJson = new HashMap<>();
    private final List<SseEvent> outbox = new ArrayList<>();
    private boolean completed;
    private boolean failed;

    public StreamingReplyMasker(TextMasker masker, UnmaskDecider decider, Consumer<SseEvent> downstream) {
        this(masker, decider, downstream, TOKEN_HOLD_LIMIT, KEY_HOLD_LIMIT);
    }

    /**
     * A masker with its own hold-back limits (the defaults are 8 KB and 64 KB).
     *
     * @param tokenHoldLimit longest whitespace-free token held back whole (a JWT, a key); a longer
     *                       one flows on, keeping only the entity-length tail held
     * @param keyHoldLimit   longest open private-key block held back; a longer one is redacted whole
     */
    public StreamingReplyMasker(TextMasker masker, UnmaskDecider decider, Consumer<SseEvent> downstream,
                                int tokenHoldLimit, int keyHoldLimit) {
        this.masker = Objects.requireNonNull(masker, "masker");
        this.blockMasker = new ReplyMasker(masker);
        this.tally = new MaskTally(decider);
        this.downstream = Objects.requireNonNull(downstream, "downstream");
        this.holdBack = masker.detectors().maxEntityLength();
        if (tokenHoldLimit < holdBack || keyHoldLimit < holdBack) {
            throw new IllegalArgumentException("hold limits must be at least the longest entity (" + holdBack
                    + " characters)");
        }
        this.tokenHoldLimit = tokenHoldLimit;
        this.keyHoldLimit = keyHoldLimit;
    }

    /** Masks one upstream event and sends whatever is now safe to send. */
    public void onEvent(SseEvent e) {
        if (failed) {
            throw new MaskingException("the stream already failed masking");
        }
        try {
            process(e);
        } catch (MaskingException ex) {
            failed = true;
            throw ex;
        } catch (RuntimeException | JsonProcessingException ex) {
            failed = true;
            throw new MaskingException("could not mask stream event " + e.event(), ex);
        }
        // delivered outside the try: a failing client is not a masking failure
        List<SseEvent> ready = List.copyOf(outbox);
        outbox.clear();
        ready.forEach(downstream);
    }

    /**
     * The upstream stream ended. Without {@code message_stop}, held-back text is dropped rather
     * than sent unchecked; the state stays readable so the caller can record the failure.
     */
    public void onComplete() {
        if (!completed) {
            texts.values().forEach(HeldText::drop);
            toolJson.clear();
        }
    }

    /** Whether {@code message_stop} was seen. */
    public boolean completed() {
        return completed;
    }

    public Set<DataClass> detected() {
        return Set.copyOf(tally.detected);
    }

    public Set<DataClass> masked() {
        return Set.copyOf(tally.masked);
    }

    /**
     * The Message as the client received it: {@code message_start}'s message, the content blocks
     * built from the emitted (masked) deltas, and {@code message_delta}'s fields and usage. Null
     * before {@code message_start}. A fresh copy on every call.
     */
    public ObjectNode assembledMessage() {
        if (message == null) {
            return null;
        }
        ObjectNode out = message.deepCopy();
        ArrayNode content = out.get("content") instanceof ArrayNode a ? a : out.putArray("content");
        for (EmittedBlock b : blocks.values()) {
            content.add(b.toJson());
        }
        return out;
    }

    // ---- event handling ----------------------------------------------------------------

    private void process(SseEvent e) throws JsonProcessingException {
        String type = e.event() == null ? "" : e.event();
        switch (type) {
            case "message_start" -> messageStart(e);
            case "content_block_start" -> blockStart(e);
            case "content_block_delta" -> blockDelta(e);
            case "content_block_stop" -> blockStop(e);
            case "message_delta" -> messageDelta(e);
            case "message_stop" -> {
                completed = true;
                outbox.add(e);
            }
            case "ping" -> outbox.add(e);
            default -> otherEvent(e); // error and event types we do not know
        }
    }

    /** Events we do not interpret still pass only with their strings masked. */
    private void otherEvent(SseEvent e) throws JsonProcessingException {
        if (e.data() == null || e.data().isEmpty()) {
            outbox.add(e);
            return;
        }
        JsonNode data;
        try {
            data = Json.mapper().readTree(e.data());
        } catch (JsonProcessingException notJson) {
            String masked = masker.mask(e.data(), tally);
            outbox.add(masked.equals(e.data()) ? e : new SseEvent(e.event(), masked));
            return;
        }
        JsonNode original = data.deepCopy();
        JsonNode masked = blockMasker.maskAllStrings(data, tally);
        outbox.add(masked.equals(original) ? e : new SseEvent(e.event(), Json.mapper().writeValueAsString(masked)));
    }

    private void messageStart(SseEvent e) throws JsonProcessingException {
        ObjectNode data = parse(e);
        JsonNode m = data.get("message");
        if (!(m instanceof ObjectNode msg)) {
            throw new MaskingException("message_start without a message");
        }
        message = msg.deepCopy();
        JsonNode content = msg.get("content");
        if (content instanceof ArrayNode array && !array.isEmpty()) {
            // never seen in practice, but whatever arrives here would otherwise go out unchecked
            blockMasker.maskContent(msg, "content", tally);
            message = msg.deepCopy();
            outbox.add(new SseEvent(e.event(), write(data)));
        } else {
            outbox.add(e);
        }
    }

    private void blockStart(SseEvent e) throws JsonProcessingException {
        ObjectNode data = parse(e);
        int index = index(data);
        JsonNode b = data.get("content_block");
        if (!(b instanceof ObjectNode block)) {
            throw new MaskingException("content_block_start without a content block");
        }
        String type = block.path("type").asText("");
        boolean changed = false;
        if ("text".equals(type) || "thinking".equals(type)) {
            String field = type;
            HeldText held = texts.computeIfAbsent(index, i -> new HeldText(field));
            String initial = block.path(field).asText("");
            if (!initial.isEmpty()) {
                // the opening text joins the held stream, so an entity split across it and the
                // first delta is still seen whole; it reaches the client as deltas
                held.append(initial);
                block.put(field, "");
                changed = true;
            }
        } else {
            ObjectNode before = block.deepCopy();
            blockMasker.maskBlock(block, tally);
            changed = !before.equals(block);
        }
        blocks.put(index, new EmittedBlock(block.deepCopy()));
        outbox.add(changed ? new SseEvent(e.event(), write(data)) : e);
    }

    private void blockDelta(SseEvent e) throws JsonProcessingException {
        ObjectNode data = parse(e);
        int index = index(data);
        JsonNode d = data.get("delta");
        if (!(d instanceof ObjectNode delta)) {
            throw new MaskingException("content_block_delta without a delta");
        }
        String type = delta.path("type").asText("");
        switch (type) {
            case "text_delta", "thinking_delta" -> {
                String field = "text_delta".equals(type) ? "text" : "thinking";
                HeldText held = texts.computeIfAbsent(index, i -> new HeldText(field));
                held.deltaType = type;
                held.append(delta.path(field).asText(""));
                String safe = held.takeSafe(false);
                if (!safe.isEmpty()) {
                    delta.put(field, safe);
                    block(index).text.append(safe);
                    outbox.add(new SseEvent(e.event(), write(data)));
                }
            }
            case "input_json_delta" -> toolJson.computeIfAbsent(index, i -> new StringBuilder())
                    .append(delta.path("partial_json").asText(""));
            case "signature_delta" -> {
                block(index).signature.append(delta.path("signature").asText(""));
                outbox.add(e);
            }
            case "citations_delta" -> {
                JsonNode c = delta.get("citation");
                boolean changed = false;
                if (c instanceof ObjectNode citation) {
                    ObjectNode before = citation.deepCopy();
                    blockMasker.maskStrings(citation, "cited_text", tally);
                    changed = !before.equals(citation);
                    block(index).citations.add(citation.deepCopy());
                }
                outbox.add(changed ? new SseEvent(e.event(), write(data)) : e);
            }
            default -> {
                // a delta type we do not know yet: mask its strings rather than trust it
                ObjectNode before = delta.deepCopy();
                blockMasker.maskBlock(delta, tally);
                outbox.add(before.equals(delta) ? e : new SseEvent(e.event(), write(data)));
            }
        }
    }

    private void blockStop(SseEvent e) throws JsonProcessingException {
        ObjectNode data = parse(e);
        int index = index(data);
        HeldText held = texts.remove(index);
        if (held != null) {
            String rest = held.takeSafe(true);
            if (!rest.isEmpty()) {
                ObjectNode delta = Json.mapper().createObjectNode()
                        .put("type", held.deltaType)
                        .put(held.field, rest);
                outbox.add(deltaEvent(index, delta));
                block(index).text.append(rest);
            }
        }
        StringBuilder json = toolJson.remove(index);
        if (json != null && !json.toString().isBlank()) {
            JsonNode input;
            try {
                input = Json.mapper().readTree(json.toString());
            } catch (JsonProcessingException ex) {
                throw new MaskingException("tool input of block " + index + " is not valid JSON", ex);
            }
            input = blockMasker.maskAllStrings(input, tally);
            String masked = write(input);
            ObjectNode delta = Json.mapper().createObjectNode()
                    .put("type", "input_json_delta")
                    .put("partial_json", masked);
            outbox.add(deltaEvent(index, delta));
            block(index).input = input;
        }
        outbox.add(e);
    }

    private void messageDelta(SseEvent e) throws JsonProcessingException {
        ObjectNode data = parse(e);
        if (message != null) {
            if (data.get("delta") instanceof ObjectNode delta) {
                message.setAll(delta);
            }
            if (data.get("usage") instanceof ObjectNode usage) {
                if (message.get("usage") instanceof ObjectNode existing) {
                    existing.setAll(usage);
                } else {
                    message.set("usage", usage.deepCopy());
                }
            }
        }
        outbox.add(e);
    }

    private SseEvent deltaEvent(int index, ObjectNode delta) throws JsonProcessingException {
        ObjectNode data = Json.mapper().createObjectNode();
        data.put("type", "content_block_delta");
        data.put("index", index);
        data.set("delta", delta);
        return new SseEvent("content_block_delta", write(data));
    }

    private EmittedBlock block(int index) {
        return blocks.computeIfAbsent(index, i -> new EmittedBlock(null));
    }

    private static ObjectNode parse(SseEvent e) throws JsonProcessingException {
        JsonNode node = Json.mapper().readTree(e.data());
        if (!(node instanceof ObjectNode object)) {
            throw new MaskingException("event " + e.event() + " does not carry a JSON object");
        }
        return object;
    }

    private static int index(ObjectNode data) {
        JsonNode index = data.get("index");
        if (index == null || !index.canConvertToInt() || index.asInt() < 0) {
            throw new MaskingException("content block event without a valid index");
        }
        return index.asInt();
    }

    private static String write(JsonNode node) throws JsonProcessingException {
        return Json.mapper().writeValueAsString(node);
    }

    // ---- state -------------------------------------------------------------------------

    /** A content block as the client has seen it so far. */
    private static final class EmittedBlock {
        private final ObjectNode start;
        final StringBuilder text = new StringBuilder();
        final StringBuilder signature = new StringBuilder();
        final List<JsonNode> citations = new ArrayList<>();
        JsonNode input;

        EmittedBlock(ObjectNode start) {
            this.start = start;
        }

        ObjectNode toJson() {
            ObjectNode b = start == null ? Json.mapper().createObjectNode() : start.deepCopy();
            String type = b.path("type").asText("");
            if ("text".equals(type) || "thinking".equals(type)) {
                b.put(type, b.path(type).asText("") + text);
            } else if (b.isEmpty() && text.length() > 0) {
                b.put("type", "text").put("text", text.toString());
            }
            if (signature.length() > 0) {
                b.put("signature", b.path("signature").asText("") + signature);
            }
            if (!citations.isEmpty()) {
                ArrayNode array = b.get("citations") instanceof ArrayNode a ? a : b.putArray("citations");
                citations.forEach(c -> array.add(c.deepCopy()));
            }
            if (input != null) {
                b.set("input", input.deepCopy());
            }
            return b;
        }
    }

    /**
     * The not-yet-sent text of one text or thinking block, with up to {@code holdBack} already-sent
     * characters kept in front as left context for the detectors. Offsets are absolute within
     * the block.
     */
    private final class HeldText {
        final String field;
        String deltaType;
        private final StringBuilder buf = new StringBuilder();
        /** Absolute offset of {@code buf[0]}. */
        private int base;
        /** Absolute offset up to which text has been sent (or deliberately swallowed). */
        private int sent;
        /** Absolute offset where the trailing whitespace-free token starts. */
        private int tokenStart;
        /** Absolute offset of an open private-key block, or -1. */
        private int keyStart = -1;
        /** Absolute offset up to which an open key block was searched for its END line. */
        private int keySearchedTo;
        /** Inside a private key that was redacted as a whole: drop text up to its END line. */
        private boolean swallowingKey;

        HeldText(String field) {
            this.field = field;
            this.deltaType = "text".equals(field) ? "text_delta" : "thinking_delta";
        }

        void append(String chunk) {
            int at = base + buf.length();
            buf.append(chunk);
            for (int k = chunk.length() - 1; k >= 0; k--) {
                if (Character.isWhitespace(chunk.charAt(k))) {
                    tokenStart = at + k + 1;
                    break;
                }
            }
        }

        void drop() {
            buf.setLength(0);
            base = 0;
            sent = 0;
        }

        private int end() {
            return base + buf.length();
        }

        /**
         * Masks and returns the text that can be sent now (everything, when {@code last}), and
         * advances past it. Empty when nothing is safe yet.
         */
        String takeSafe(boolean last) {
            StringBuilder out = new StringBuilder();
            if (swallowingKey && !swallowKey(last)) {
                return "";
            }
            int end = end();
            int cut = end;
            boolean forceKey = false;
            if (!last) {
                // built-in entities are one token, or short groups of digits and capitals split by
                // single spaces (cards, phones, IBANs): only such a tail can still grow into one.
                // Custom patterns may span words, so with them the whole hold-back window stays.
                cut = masker.detectors().hasCustomPatterns() ? end - holdBack : pendingStart();
                if (end - tokenStart <= tokenHoldLimit) {
                    cut = Math.min(cut, tokenStart);
                } else {
                    cut = Math.max(cut, end - holdBack);
                }
                int key = openKeyStart();
                if (key >= 0) {
                    if (end - key > keyHoldLimit) {
                        forceKey = true;
                        cut = key;
                    } else {
                        cut = Math.min(cut, key);
                    }
                }
                if (cut <= sent && !forceKey) {
                    return "";
                }
            }
            String view = buf.toString();
            List<Detection> found = masker.detectors().scan(view);
            int localFrom = sent - base;
            int localCut = Math.max(cut - base, localFrom);
            if (!last && !forceKey) {
                for (Detection d : found) {
                    if (d.start() < localCut && d.end() > localCut) {
                        localCut = Math.max(d.start(), localFrom);
                    }
                }
                if (localCut > localFrom && Character.isHighSurrogate(view.charAt(localCut - 1))) {
                    localCut--;
                }
            }
            if (localCut > localFrom) {
                masker.appendMasked(out, view, localFrom, localCut, found, tally);
                sent = base + localCut;
            }
            if (forceKey && sent == keyStart) {
                redactOpenKey(out, view);
            }
            trim();
            return out.toString();
        }

        /**
         * The absolute start of the tail that later text could still turn into an entity: the
         * trailing token, extended backwards over short groups of digits, capitals and phone
         * punctuation separated by single spaces ("+44 20 7946 0958", "4111 1111 1111 1111").
         */
        private int pendingStart() {
            int j = Math.max(tokenStart, sent) - base;
            int floor = Math.max(sent - base, buf.length() - holdBack);
            while (j - 1 > floor && buf.charAt(j - 1) == ' ') {
                int k = j - 2;
                // the whole run, not just a group's worth: "+449(415) 555-0132" is one phone
                while (k >= floor && isGroupChar(buf.charAt(k))) {
                    k--;
                }
                int groupLength = (j - 2) - k;
                if (groupLength < 1) {
                    break;
                }
                // the group is held even when glued to what precedes it: a detector may start an
                // entity inside a run ("078-05-1120(415) 555-0132" holds "(415)" until the phone ends)
                j = k + 1;
                boolean startsAtBoundary = k < floor || Character.isWhitespace(buf.charAt(k));
                if (groupLength > 6 || !startsAtBoundary) {
                    break;
                }
            }
            return base + j;
        }

        private static boolean isGroupChar(char c) {
            return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '(' || c == ')' || c == '+' || c == '-'
                    || c == '.';
        }

        /** The absolute start of a private-key block that is still open, or -1. */
        private int openKeyStart() {
            int end = end();
            if (keyStart >= sent && PemHeader.isPrivateKeyHeader(buf, keyStart - base)) {
                // the header is known; only new text can close the block
                int from = Math.max(keyStart, keySearchedTo - 8) - base;
                if (buf.indexOf("-----END", from) < 0) {
                    keySearchedTo = end;
                    return keyStart;
                }
            }
            int local = masker.detectors().pendingPrivateKeyStart(buf, sent - base);
            keyStart = local < 0 ? -1 : base + local;
            keySearchedTo = end;
            return keyStart;
        }

        /** Sends the placeholder for an open key block that outgrew the hold limit. */
        private void redactOpenKey(StringBuilder out, String view) {
            int localStart = keyStart - base;
            String value = view.substring(localStart);
            if (tally.mustMask(DataClass.PRIVATE_KEY)) {
                masker.appendPlaceholder(out, DataClass.PRIVATE_KEY, value, tally);
                swallowingKey = true;
            } else {
                out.append(value);
            }
            sent = end();
            keyStart = -1;
        }

        /**
         * Drops held text up to the END line of a key already redacted as a whole. Returns true
         * once the END line was found (normal processing resumes after it).
         */
        private boolean swallowKey(boolean last) {
            int local = buf.indexOf("-----END", Math.max(0, sent - base - 8));
            int keepFrom = end() - 8;
            if (local >= 0) {
                int close = buf.indexOf("-----", local + 8);
                if (close >= 0) {
                    sent = base + close + 5;
                    swallowingKey = false;
                    trim();
                    return true;
                }
                keepFrom = base + local;
            }
            // keep the tail that may be the start of an END line completed by later deltas
            sent = last ? end() : Math.max(sent, keepFrom);
            trim();
            return false;
        }

        private void trim() {
            int keep = Math.max(base, sent - holdBack);
            // keep the detectors' view starting at a token boundary: a view cut inside a token
            // looks like a boundary to them and finds entities that the whole text does not have
            int floor = Math.max(base, keep - tokenHoldLimit);
            while (keep > floor && !Character.isWhitespace(buf.charAt(keep - 1 - base))) {
                keep--;
            }
            if (keep > base) {
                buf.delete(0, keep - base);
                base = keep;
            }
        }
    }

    /** Recognises a complete private-key BEGIN header (for the open-key shortcut). */
    private static final class PemHeader {
        private static final String BEGIN = "-----BEGIN ";
        private static final String SUFFIX = "PRIVATE KEY-----";

        static boolean isPrivateKeyHeader(StringBuilder s, int at) {
            if (at < 0 || s.length() - at < BEGIN.length() + SUFFIX.length()
                    || !BEGIN.contentEquals(s.subSequence(at, at + BEGIN.length()))) {
                return false;
            }
            int close = s.indexOf("-----", at + BEGIN.length());
            return close >= 0 && close - at < 80 && close + 5 - SUFFIX.length() >= at + BEGIN.length()
                    && SUFFIX.contentEquals(s.subSequence(close + 5 - SUFFIX.length(), close + 5));
        }
    }
}
