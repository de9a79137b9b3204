package dev.policygate.core.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.re2j.Pattern;
import dev.policygate.core.analysis.AnalysedRequest;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.approval.ApprovalListener;
import dev.policygate.core.approval.ApprovalPage;
import dev.policygate.core.approval.ApprovalRecord;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.ApprovalWorkflow;
import dev.policygate.core.approval.HeldRequest;
import dev.policygate.core.approval.HeldRequestStore;
import dev.policygate.core.approval.InMemoryHeldRequestStore;
import dev.policygate.core.approval.InProcessApprovalWorkflow;
import dev.policygate.core.auth.AuthenticationException;
import dev.policygate.core.auth.Principal;
import dev.policygate.core.auth.PrincipalResolver;
import dev.policygate.core.decision.Action;
import dev.policygate.core.decision.AuthzRequest;
import dev.policygate.core.decision.Contexts;
import dev.policygate.core.decision.Decision;
import dev.policygate.core.decision.EntityRef;
import dev.policygate.core.decision.Outcome;
import dev.policygate.core.decision.PolicyEngine;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskReport;
import dev.policygate.core.masking.MaskingException;
import dev.policygate.core.masking.ReplyMasker;
import dev.policygate.core.masking.SseEvent;
import dev.policygate.core.masking.SseParser;
import dev.policygate.core.masking.StreamingReplyMasker;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.masking.UnmaskDecider;
import dev.policygate.core.session.SessionIds;
import dev.policygate.core.session.SessionPage;
import dev.policygate.core.session.SessionQuery;
import dev.policygate.core.session.SessionStatus;
import dev.policygate.core.session.SessionStore;
import dev.policygate.core.session.SessionSummary;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamException;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Use case: enforce policy on every Claude API call. Authenticates the caller, analyses the
 * request, asks Cedar, then denies, holds for approval, or forwards with masking; and records
 * every exchange, whatever its outcome. It is also the one place that maps errors to HTTP.
 *
 * <p>Runs unchanged behind the local server, a Lambda handler, or a test: it sees only
 * {@link GatewayRequest} and {@link GatewayResponse}. Without an {@link ApprovalService} (null),
 * requests that need approval are refused (fail closed).
 */
public final class Gateway implements ApprovalListener {
    private static final Logger LOG = Logger.getLogger(Gateway.class.getName());
    private static final String DEFAULT_ANTHROPIC_VERSION = "2023-06-01";
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /** Requests held for approval at once; each keeps its body in memory until decided. */
    static final int MAX_HELD = 1000;
    /** Replies kept for their owners after an approval, newest first; older ones fall back to the recording. */
    static final int MAX_OWNER_REPLIES = 1000;
    /** Concurrent {@code ?wait=} long-polls; beyond this a read answers at once. */
    static final int MAX_WAITERS = 16;
    private static final java.util.regex.Pattern HEADER_TOKENS = java.util.regex.Pattern.compile("[A-Za-z0-9._,:=-]+");

    private final GatewayConfig config;
    private final PrincipalResolver auth;
    private final PolicyEngine policies;
    private final RequestDecider decider;
    private final RequestAnalyzer analyzer;
    private final TextMasker masker;
    private final ReplyMasker replyMasker;
    private final ClaudeUpstream upstream;
    private final SessionStore sessions;
    private final ApprovalWorkflow workflow;
    private final ApprovalService approvals;
    private final HeldRequestStore heldStore;
    private final Clock clock;
    private final SessionIds ids;
    private final ExecutorService background;
    private final Pattern modelPattern;
    /** Sessions held for approval by this process, so that an in-process approval resumes without a read. */
    private final Map<String, Exchange> heldExchanges = new ConcurrentHashMap<>();
    private volatile GatewayMetrics metrics = GatewayMetrics.NONE;
    private final java.util.concurrent.Semaphore waiters = new java.util.concurrent.Semaphore(MAX_WAITERS);

    /**
     * A gateway whose approvals run in this process: held requests in memory, and
     * {@code approvals} (or none: requests that need approval are refused) both opens approvals
     * and serves the approval pages.
     */
    public Gateway(GatewayConfig config, PrincipalResolver auth, PolicyEngine policies, RequestAnalyzer analyzer,
                   TextMasker masker, ClaudeUpstream upstream, SessionStore sessions, ApprovalService approvals,
                   Clock clock, ExecutorService background) {
        this(config, auth, policies, analyzer, masker, upstream, sessions,
                approvals == null ? null : new InProcessApprovalWorkflow(approvals), approvals,
                new InMemoryHeldRequestStore(MAX_HELD, MAX_OWNER_REPLIES), clock, background);
        if (approvals != null) {
            approvals.setListener(this);
        }
    }

    /**
     * A gateway with its approval parts chosen by the caller (on AWS each function has its own).
     *
     * @param workflow  starts approvals for held requests; null refuses requests that need one (403)
     * @param approvals serves the approval pages ({@code /approvals/{id}}); null answers 404
     * @param heldStore where held requests and the owners' replies wait
     */
    public Gateway(GatewayConfig config, PrincipalResolver auth, PolicyEngine policies, RequestAnalyzer analyzer,
                   TextMasker masker, ClaudeUpstream upstream, SessionStore sessions, ApprovalWorkflow workflow,
                   ApprovalService approvals, HeldRequestStore heldStore, Clock clock, ExecutorService background) {
        this.config = config;
        this.auth = auth;
        this.policies = policies;
        this.decider = new RequestDecider(policies);
        this.analyzer = analyzer;
        this.masker = masker;
        this.replyMasker = new ReplyMasker(masker);
        this.upstream = upstream;
        this.sessions = sessions;
        this.workflow = workflow;
        this.approvals = approvals;
        this.heldStore = java.util.Objects.requireNonNull(heldStore, "heldStore");
        this.clock = clock;
        this.ids = new SessionIds(clock);
        this.background = background;
        this.modelPattern = Pattern.compile(config.modelPattern());
    }

    /** Sets where operational counters go (default: nowhere). */
    public Gateway withMetrics(GatewayMetrics metrics) {
        this.metrics = metrics == null ? GatewayMetrics.NONE : metrics;
        return this;
    }

    /** Handles one HTTP request. Never throws: every failure becomes an Anthropic-shaped error. */
    public GatewayResponse handle(GatewayRequest req) {
        return handle(req, null);
    }

    /**
     * Handles one HTTP request that must be answered by {@code deadline} (for a Lambda, its
     * remaining time less what recording needs): an upstream still busy then is cut, and the
     * session is recorded as failed instead of being lost with the invocation.
     */
    public GatewayResponse handle(GatewayRequest req, Instant deadline) {
        Exchange ex = new Exchange(ids.next(), routeName(req), clock.instant(), req.sourceIp());
        ex.deadline = deadline;
        GatewayResponse response;
        try {
            response = route(ex, req);
        } catch (GatewayError e) {
            response = fail(ex, e);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "session " + ex.id + ": internal error " + e.getClass().getName(), e);
            response = fail(ex, GatewayError.internal());
        }
        int masked = ex.maskedInPrompt.size() + ex.maskedInReply.size();
        if (masked > 0) {
            metrics.value(GatewayMetrics.MASKED_CLASSES, masked, "Count");
        }
        return response.header("x-policygate-session-id", ex.id);
    }

    private GatewayResponse route(Exchange ex, GatewayRequest req) {
        String path = req.path();
        String method = req.method();
        if (path.equals("/v1/messages")) {
            requireMethod(method, "POST");
            return messages(ex, req, RequestAnalyzer.Operation.MESSAGES);
        }
        if (path.equals("/v1/messages/count_tokens")) {
            requireMethod(method, "POST");
            return messages(ex, req, RequestAnalyzer.Operation.COUNT_TOKENS);
        }
        if (path.equals("/v1/models")) {
            requireMethod(method, "GET");
            return models(ex, req);
        }
        if (path.equals("/v1/sessions")) {
            requireMethod(method, "GET");
            return listSessions(ex, req);
        }
        if (path.startsWith("/v1/sessions/") && path.endsWith("/recording")) {
            requireMethod(method, "GET");
            return getRecording(ex, req, path.substring("/v1/sessions/".length(), path.length() - "/recording".length()));
        }
        if (path.startsWith("/v1/sessions/")) {
            requireMethod(method, "GET");
            return getSession(ex, req, path.substring("/v1/sessions/".length()));
        }
        if (path.startsWith("/approvals/")) {
            return approval(ex, req, path.substring("/approvals/".length()));
        }
        throw GatewayError.notFound("Not found: " + method + " " + truncate(path, 100));
    }

    private static void requireMethod(String actual, String expected) {
        if (!actual.equals(expected)) {
            throw new GatewayError(405, "invalid_request_error", "Method " + truncate(actual, 10) + " not allowed; use "
                    + expected + ".");
        }
    }

    // ---------------------------------------------------------------- messages and count_tokens

    private GatewayResponse messages(Exchange ex, GatewayRequest req, RequestAnalyzer.Operation op) {
        Principal principal = authenticate(ex, req);
        if (req.bodyTooLarge()) {
            throw new GatewayError(413, "request_too_large",
                    "Request exceeds the maximum allowed size of " + config.maxBodyBytes() + " bytes.");
        }
        // validated before anything else, so a bad header is a 400 whatever policy says
        Map<String, String> upstreamHeaders = anthropicHeaders(req);
        AnalysedRequest a = analyzer.analyse(req.body(), op);
        ex.model = a.model();
        ex.stream = a.stream();
        ex.detections = a.detectionLabels();
        ex.request = maskedForRecording(a);
        if (!modelPattern.matches(a.model())) {
            throw GatewayError.notFound("model: " + a.model());
        }
        String operation = op == RequestAnalyzer.Operation.MESSAGES ? "messages" : "count_tokens";
        Decision d = decideRequest(ex, principal, a, req.sourceIp(), operation, false, null);
        switch (d.outcome()) {
            case DENY -> throw denied(d);
            case APPROVAL -> {
                if (op != RequestAnalyzer.Operation.MESSAGES) {
                    throw new GatewayError(403, "permission_error", "This request needs human approval ("
                            + String.join("; ", d.messages()) + "); send it to /v1/messages.", d.policyIds());
                }
                if (!a.acrossParts().isEmpty()) {
                    // a request that could not be masked for forwarding is refused now, not after an approver's work
                    forwardBody(ex, a, req.body(), a.stream());
                }
                return hold(ex, principal, a, req, upstreamHeaders, d);
            }
            default -> {
                return forward(ex, principal, a, req, upstreamHeaders, op);
            }
        }
    }

    private Principal authenticate(Exchange ex, GatewayRequest req) {
        try {
            Principal p = auth.authenticate(req.headers());
            ex.principal = p;
            return p;
        } catch (AuthenticationException e) {
            if (e.reason() == AuthenticationException.Reason.UNAVAILABLE) {
                // our key store or the identity provider is down: not the caller's fault, and retryable
                throw new GatewayError(503, "api_error", "Credentials cannot be checked right now. Try again later.");
            }
            throw new GatewayError(401, "authentication_error", e.getMessage());
        }
    }

    private Decision decideRequest(Exchange ex, Principal p, AnalysedRequest a, String sourceIp, String operation,
                                   boolean approvalGranted, String approver) {
        long t0 = System.nanoTime();
        Decision combined = decider.decide(p.id(), p.groups(), a, a.detectionLabels(), sourceIp, operation,
                approvalGranted, approver);
        ex.decisionMicros += (System.nanoTime() - t0) / 1000;
        if (approvalGranted) {
            // the index keeps the first decision (what policy replay compares against); the
            // re-evaluation after approval goes to the approval trail
            ex.trail(clock.instant(), "re-evaluated:" + combined.outcome().name(), approver, null);
        } else {
            ex.decision = combined.outcome().name();
            ex.policyIds = combined.policyIds();
            ex.messages = combined.messages();
            metrics.count(GatewayMetrics.DECISION_PREFIX + switch (combined.outcome()) {
                case ALLOW -> "Allow";
                case DENY -> "Deny";
                case APPROVAL -> "Approval";
            });
        }
        return combined;
    }

    private static GatewayError denied(Decision d) {
        String message;
        if (!d.messages().isEmpty()) {
            message = String.join("; ", d.messages());
        } else if (d.policyIds().isEmpty()) {
            message = "No policy permits this request (default deny).";
        } else {
            message = "Denied by policy " + String.join(", ", d.policyIds()) + ".";
        }
        return new GatewayError(403, "permission_error", message, d.policyIds());
    }

    private ObjectNode maskedForRecording(AnalysedRequest a) {
        ObjectNode copy = a.json().deepCopy();
        if (!a.detected().isEmpty()) {
            replyMasker.maskRequestMessages(copy, UnmaskDecider.MASK_ALL, !a.acrossParts().isEmpty());
            if (!a.acrossParts().isEmpty() && stillShows(copy, UnmaskDecider.MASK_ALL)) {
                // an entity crossed two strings where the masker's walk did not join them: keep no text at all
                copy.remove(List.of("system", "messages", "tools"));
                copy.put("text_removed", "an entity ran across two text parts and could not be masked");
            }
        }
        // credentials the caller passes through for MCP servers are never recorded
        for (JsonNode server : copy.path("mcp_servers")) {
            if (server instanceof ObjectNode o && o.has("authorization_token")) {
                o.put("authorization_token", "[REDACTED]");
            }
        }
        return copy;
    }

    /**
     * Whether the analyser, reading a masked copy as it reads a request, still finds a class the
     * reader may not see; also when it cannot read the copy at all (fail closed).
     */
    private boolean stillShows(ObjectNode masked, UnmaskDecider reader) {
        Set<DataClass> found;
        try {
            found = analyzer.detectedIn(masked);
        } catch (GatewayError e) {
            return true;
        }
        for (DataClass c : found) {
            if (!reader.mayReadUnmasked(c)) {
                return true;
            }
        }
        return false;
    }

    private UnmaskDecider replyDecider(Principal p) {
        Map<DataClass, Boolean> memo = new ConcurrentHashMap<>();
        return c -> memo.computeIfAbsent(c, k -> policies.decide(new AuthzRequest(EntityRef.user(p.id()), p.groups(),
                Action.read_unmasked, EntityRef.dataClass(k.name()), null, Contexts.readUnmasked("reply")))
                .allowed());
    }

    private UnmaskDecider promptDecider(String model) {
        Map<DataClass, Boolean> memo = new HashMap<>();
        return c -> memo.computeIfAbsent(c, k -> policies.decide(new AuthzRequest(EntityRef.model(model), Set.of(),
                Action.read_unmasked, EntityRef.dataClass(k.name()), null, Contexts.readUnmasked("prompt")))
                .allowed());
    }

    private static Map<String, String> anthropicHeaders(GatewayRequest req) {
        Map<String, String> h = new LinkedHashMap<>();
        String version = req.header("anthropic-version");
        h.put("anthropic-version", version == null ? DEFAULT_ANTHROPIC_VERSION : checkedHeader("anthropic-version",
                version.trim(), 64));
        String beta = req.header("anthropic-beta");
        if (beta != null && !beta.isBlank()) {
            h.put("anthropic-beta", checkedHeader("anthropic-beta", beta.replace(" ", ""), 1024));
        }
        return h;
    }

    /** Headers passed upstream must be plain tokens: never truncated, never with control characters. */
    private static String checkedHeader(String name, String value, int max) {
        if (value.isEmpty() || value.length() > max || !HEADER_TOKENS.matcher(value).matches()) {
            throw GatewayError.invalid(name + ": must be at most " + max + " characters of letters, digits and . _ , : = -");
        }
        return value;
    }

    /** The body to forward: the caller's bytes unchanged, unless policy masks part of the prompt. */
    private byte[] forwardBody(Exchange ex, AnalysedRequest a, byte[] original, boolean forceNoStream) {
        ObjectNode copy = null;
        if (!a.detected().isEmpty()) {
            UnmaskDecider decider = promptDecider(a.model());
            boolean anyMasked = a.detected().stream().anyMatch(c -> !decider.mayReadUnmasked(c));
            if (anyMasked) {
                copy = a.json().deepCopy();
                MaskReport report = replyMasker.maskRequestMessages(copy, decider, !a.acrossParts().isEmpty());
                report.masked().forEach(c -> ex.maskedInPrompt.add(c.name()));
                if (!a.acrossParts().isEmpty() && stillShows(copy, decider)) {
                    // what the analyser still finds ran across strings that the masker's walk did not join
                    String classes = a.acrossParts().stream().map(DataClass::label).sorted()
                            .collect(Collectors.joining(", "));
                    throw new GatewayError(400, "invalid_request_error", "The request holds " + classes
                            + " data that runs from one text part into the next and could not be masked;"
                            + " send it within one part, or remove it.", List.of());
                }
            }
        }
        if (forceNoStream) {
            copy = copy == null ? a.json().deepCopy() : copy;
            copy.put("stream", false);
        }
        if (copy == null) {
            return original;
        }
        try {
            return Json.mapper().writeValueAsBytes(copy);
        } catch (JsonProcessingException e) {
            throw GatewayError.internal();
        }
    }

    private GatewayResponse forward(Exchange ex, Principal p, AnalysedRequest a, GatewayRequest req,
                                    Map<String, String> upstreamHeaders,
                                    RequestAnalyzer.Operation op) {
        byte[] body = forwardBody(ex, a, req.body(), false);
        writeAhead(ex);
        String path = op == RequestAnalyzer.Operation.MESSAGES ? "/v1/messages" : "/v1/messages/count_tokens";
        UpstreamResponse resp = callUpstream(ex, new UpstreamRequest("POST", path, body, upstreamHeaders,
                a.stream(), ex.deadline));
        boolean handedOff = false;
        try {
            if (resp.status() != 200) {
                return upstreamError(ex, resp);
            }
            if (op == RequestAnalyzer.Operation.COUNT_TOKENS) {
                byte[] out = readBounded(resp.body(), MAX_ERROR_BODY);
                ex.reply = parseObject(out);
                return complete(ex, GatewayResponse.json(200, out));
            }
            String contentType = String.valueOf(resp.header("content-type"));
            if (a.stream() && contentType.startsWith("text/event-stream")) {
                handedOff = true;
                return streamReply(ex, p, resp);
            }
            byte[] raw = readBounded(resp.body(), config.maxReplyBytes());
            ObjectNode message = parseObject(raw);
            if (message == null) {
                throw new GatewayError(502, "api_error", "The upstream returned a reply that is not a JSON object.");
            }
            byte[] out = maskReply(ex, p, message);
            return complete(ex, GatewayResponse.json(200, out)).header("request-id", ex.upstreamRequestId);
        } catch (IOException e) {
            throw readFailure(e);
        } finally {
            if (!handedOff) {
                closeQuietly(resp);
            }
        }
    }

    private static GatewayError readFailure(IOException e) {
        if (e instanceof UpstreamException u && u.kind() == UpstreamException.Kind.TIMEOUT) {
            return new GatewayError(504, "api_error", "The upstream stopped sending the reply.");
        }
        return new GatewayError(502, "api_error", "The upstream connection failed while reading the reply.");
    }

    /** Masks a complete reply for the caller, and records a fully masked copy. Fails closed. */
    private byte[] maskReply(Exchange ex, Principal p, ObjectNode message) {
        try {
            ObjectNode forCaller = message.deepCopy();
            MaskReport report = replyMasker.maskMessage(forCaller, replyDecider(p));
            report.masked().forEach(c -> ex.maskedInReply.add(c.name()));
            ObjectNode forRecord = forCaller;
            if (!report.masked().containsAll(report.detected())) {
                // the caller may see some class unmasked; the recording never does
                forRecord = forCaller.deepCopy();
                replyMasker.maskMessage(forRecord, UnmaskDecider.MASK_ALL);
            }
            ex.reply = forRecord;
            JsonNode usage = message.get("usage");
            if (usage instanceof ObjectNode u) {
                ex.usage = u;
            }
            return Json.mapper().writeValueAsBytes(forCaller);
        } catch (JsonProcessingException | MaskingException e) {
            throw new GatewayError(502, "api_error", "The reply could not be masked, so it was not returned.");
        }
    }

    private GatewayResponse streamReply(Exchange ex, Principal p, UpstreamResponse resp) {
        ex.status = SessionStatus.IN_FLIGHT;
        GatewayResponse out = GatewayResponse.stream(200, sink -> {
            StreamingReplyMasker m = new StreamingReplyMasker(masker, replyDecider(p), event -> {
                try {
                    sink.write(event.encode().getBytes(StandardCharsets.UTF_8));
                    sink.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, config.streamTokenHold(), config.streamKeyHold());
            String failure = null;
            String failureType = "api_error";
            try (resp) {
                SseParser parser = new SseParser(resp.body(), config.maxSseEventBytes());
                SseEvent event;
                while ((event = parser.next()) != null) {
                    m.onEvent(event);
                }
                m.onComplete();
                if (!m.completed()) {
                    failure = "The upstream stream ended before message_stop.";
                }
            } catch (UncheckedIOException e) {
                failure = "The client connection ended, or the response reached its size limit.";
                failureType = null;
            } catch (MaskingException e) {
                failure = "The reply could not be masked, so the stream was stopped.";
            } catch (IOException e) {
                failure = "The upstream stream failed: " + (e instanceof UpstreamException u ? u.kind().name()
                        : "malformed or interrupted");
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "session " + ex.id + ": stream failed " + e.getClass().getName(), e);
                failure = "Internal gateway error while streaming.";
            }
            if (failure != null && failureType != null) {
                try {
                    ObjectNode err = errorBody(failureType, failure, List.of(), ex.id);
                    sink.write(new SseEvent("error", Json.mapper().writeValueAsString(err))
                            .encode().getBytes(StandardCharsets.UTF_8));
                    sink.flush();
                } catch (IOException ignored) {
                    // the client is gone; the session still records the failure below
                }
            }
            synchronized (ex) {
                try {
                    ObjectNode assembled = m.assembledMessage();
                    if (assembled != null) {
                        ObjectNode rec = assembled;
                        if (!m.masked().containsAll(m.detected())) {
                            rec = assembled.deepCopy();
                            replyMasker.maskMessage(rec, UnmaskDecider.MASK_ALL);
                        }
                        ex.reply = rec;
                        if (rec.get("usage") instanceof ObjectNode u) {
                            ex.usage = u;
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "session " + ex.id + ": could not assemble the streamed reply", e);
                }
                m.masked().forEach(c -> ex.maskedInReply.add(c.name()));
                if (failure == null) {
                    ex.httpStatus = 200;
                    finish(ex, SessionStatus.COMPLETED);
                } else {
                    ex.httpStatus = 200;
                    ex.errorType = failureType == null ? "client_disconnected" : failureType;
                    ex.errorMessage = failure;
                    finish(ex, SessionStatus.FAILED);
                }
            }
        });
        return out.header("request-id", ex.upstreamRequestId);
    }

    private void writeAhead(Exchange ex) {
        ex.httpStatus = 0;
        ex.status = SessionStatus.IN_FLIGHT;
        try {
            sessions.begin(ex.summary());
        } catch (IllegalStateException collision) {
            // another session owns this id: never record (and so overwrite) under it
            ex.doNotRecord = true;
            metrics.count(GatewayMetrics.WRITE_AHEAD_FAILED);
            LOG.severe("session " + ex.id + ": id collision in the session index; refusing to forward");
            throw new GatewayError(503, "api_error", "The session could not be recorded, so the request was not "
                    + "forwarded. Try again.");
        } catch (IOException | RuntimeException e) {
            if (config.failOpen()) {
                metrics.count(GatewayMetrics.WRITE_AHEAD_FAIL_OPEN);
                LOG.warning("session " + ex.id + ": write-ahead failed (" + e.getClass().getSimpleName()
                        + "); forwarding anyway because fail-open is configured");
                return;
            }
            metrics.count(GatewayMetrics.WRITE_AHEAD_FAILED);
            LOG.warning("session " + ex.id + ": write-ahead failed (" + e.getClass().getSimpleName()
                    + "); refusing to forward");
            throw new GatewayError(503, "api_error", "The session could not be recorded, so the request was not "
                    + "forwarded. Try again later.");
        }
    }

    private UpstreamResponse callUpstream(Exchange ex, UpstreamRequest request) {
        long t0 = System.nanoTime();
        try {
            UpstreamResponse resp = upstream.send(request);
            ex.upstreamRequestId = truncateOrNull(resp.header("request-id"), 128);
            return resp;
        } catch (UpstreamException e) {
            metrics.count(GatewayMetrics.UPSTREAM_ERROR);
            if (e.kind() == UpstreamException.Kind.TIMEOUT) {
                throw new GatewayError(504, "api_error", "The upstream did not answer in time.");
            }
            throw new GatewayError(502, "api_error", "The upstream could not be reached.");
        } finally {
            ex.upstreamMillis = (System.nanoTime() - t0) / 1_000_000;
            metrics.value(GatewayMetrics.UPSTREAM_LATENCY, ex.upstreamMillis, "Milliseconds");
        }
    }

    private GatewayResponse upstreamError(Exchange ex, UpstreamResponse resp) throws IOException {
        int status = resp.status();
        if (status >= 500 || status == 429) {
            metrics.count(GatewayMetrics.UPSTREAM_ERROR);
        }
        byte[] body = readBounded(resp.body(), MAX_ERROR_BODY);
        ObjectNode parsed = parseObject(body);
        String upstreamMessage = parsed == null ? null : parsed.path("error").path("message").asText(null);
        if (upstreamMessage != null) {
            // it may quote the prompt, which the caller sent but the recording must not hold raw
            upstreamMessage = masker.mask(truncate(upstreamMessage, 2000), UnmaskDecider.MASK_ALL).text();
        }
        if (status == 401 || status == 403) {
            LOG.severe("session " + ex.id + ": the upstream rejected the gateway credential (status " + status + ")");
            throw new GatewayError(502, "api_error", "The gateway's upstream credential was rejected.");
        }
        if (status == 429) {
            GatewayError e = new GatewayError(429, "rate_limit_error",
                    upstreamMessage == null ? "Rate limited by the upstream." : upstreamMessage);
            return fail(ex, e).header("retry-after", truncateOrNull(resp.header("retry-after"), 16));
        }
        if (status == 529) {
            throw new GatewayError(529, "overloaded_error", "The upstream is overloaded.");
        }
        if (status >= 500 || status < 400) {
            throw new GatewayError(502, "api_error", "The upstream failed (status " + status + ").");
        }
        String type = parsed == null ? "invalid_request_error" : parsed.path("error").path("type")
                .asText("invalid_request_error");
        throw new GatewayError(status, truncate(type, 64), upstreamMessage == null
                ? "The upstream rejected the request (status " + status + ")." : truncate(upstreamMessage, 2000));
    }

    // ---------------------------------------------------------------- approval

    private GatewayResponse hold(Exchange ex, Principal p, AnalysedRequest a, GatewayRequest req,
                                 Map<String, String> upstreamHeaders, Decision d) {
        if (workflow == null) {
            throw new GatewayError(403, "permission_error", "This request needs approval ("
                    + String.join("; ", d.messages()) + "), and no approval workflow is configured here.",
                    d.policyIds());
        }
        if (p.email() == null || p.email().isBlank()) {
            // approver ≠ requester is checked by email; without one it cannot be checked: fail closed
            throw new GatewayError(403, "permission_error", "This request needs approval, but the requester has no "
                    + "email address on record, so approver and requester cannot be told apart.", d.policyIds());
        }
        String excerpt = truncate(masker.mask(a.rawText(), UnmaskDecider.MASK_ALL).text(), 2000);
        HeldRequest h = new HeldRequest(ex.id, p, req.body(), upstreamHeaders, req.sourceIp(), a.model(),
                d.messages(), d.approvalGroups(), d.policyIds(), excerpt, clock.instant());
        synchronized (ex) {
            ex.httpStatus = 202;
            ex.status = SessionStatus.PENDING_APPROVAL;
        }
        ex.trail(h.createdAt(), "requested", null, d.approvalGroups());
        try {
            heldStore.put(h);
        } catch (InMemoryHeldRequestStore.HeldRequestsFullException e) {
            throw new GatewayError(429, "rate_limit_error", "Too many requests are waiting for approval. Try later.");
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "session " + ex.id + ": the held request could not be stored " + e.getClass().getName());
            throw new GatewayError(503, "api_error", "The request could not be held for approval. Try again later.");
        }
        // hold first: an approval or expiry may arrive as soon as the links are out, and the
        // workflow resumes from the recording
        heldExchanges.put(ex.id, ex);
        Instant expires;
        try {
            if (!recordStrict(ex)) {
                throw new IOException("the pending session could not be recorded");
            }
            expires = workflow.start(h);
            if (!workflow.inProcess()) {
                // the outcome arrives in another process, which continues from the recording
                heldExchanges.remove(ex.id);
            }
            metrics.count(GatewayMetrics.APPROVAL_PREFIX + "Requested");
        } catch (ApprovalService.NoApproversException e) {
            dropHeld(ex.id);
            throw new GatewayError(403, "permission_error", "This request needs approval by group " + e.group()
                    + ", which has no approvers configured.", d.policyIds());
        } catch (IOException | RuntimeException e) {
            dropHeld(ex.id);
            LOG.log(Level.WARNING, "session " + ex.id + ": the approval could not be started " + e.getClass().getName());
            throw new GatewayError(503, "api_error", "The approval request could not be sent. Try again later.");
        }
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("type", "approval_pending");
        body.put("session_id", ex.id);
        body.put("status_url", config.publicBaseUrl() + "/v1/sessions/" + ex.id);
        body.put("expires_at", expires.toString());
        ArrayNode groups = body.putArray("approval_groups");
        new TreeSet<>(d.approvalGroups()).forEach(groups::add);
        ArrayNode ids = body.putArray("policy_ids");
        d.policyIds().forEach(ids::add);
        body.put("message", String.join("; ", d.messages()));
        return GatewayResponse.json(202, bytes(body));
    }

    private void dropHeld(String sessionId) {
        heldExchanges.remove(sessionId);
        try {
            heldStore.delete(sessionId);
        } catch (IOException | RuntimeException e) {
            LOG.warning("session " + sessionId + ": a held request could not be deleted (" + e.getClass().getSimpleName()
                    + "); its store expires it");
        }
    }

    /** In-process workflow: an approver approved. Forwards in the background. */
    @Override
    public void onApproved(ApprovalRecord record) {
        background.execute(() -> resumeApproved(record.sessionId(), record.decidedBy(),
                record.groupDecisions().keySet()));
    }

    @Override
    public void onDenied(ApprovalRecord record) {
        endHeld(record.sessionId(), SessionStatus.REJECTED, record.decidedBy(), null);
    }

    @Override
    public void onExpired(ApprovalRecord record) {
        endHeld(record.sessionId(), SessionStatus.EXPIRED, null, null);
    }

    /**
     * Use case: forward a held request after approval. Re-evaluates with
     * {@code context.approval.granted} and the approver, calls Claude at most once per session
     * (a claim in the {@link HeldRequestStore}), masks the reply for the owner and the recording,
     * and completes the session. Safe to call again: a session that already ended is left alone.
     *
     * @return the session's status afterwards
     */
    public SessionStatus resumeApproved(String sessionId, String approver, Set<String> groups) {
        Optional<HeldRequest> found;
        try {
            found = heldStore.get(sessionId);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "session " + sessionId + ": the held request could not be read "
                    + e.getClass().getSimpleName());
            throw new IllegalStateException("the held request could not be read", e);
        }
        Exchange ex = heldExchange(sessionId, found.map(HeldRequest::principal).orElse(null));
        if (ex == null) {
            return null;
        }
        if (ex.status.terminal()) {
            return ex.status;
        }
        if (found.isEmpty()) {
            ex.errorType = "api_error";
            ex.errorMessage = "The held request is gone, so it was not forwarded.";
            ex.httpStatus = 500;
            return closeHeld(ex, SessionStatus.FAILED);
        }
        HeldRequest h = found.get();
        try {
            if (!heldStore.claimForward(sessionId)) {
                // another attempt holds the claim: never call Claude twice
                return ex.status;
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the forward could not be claimed", e);
        }
        ex.trail(clock.instant(), "approved", approver, groups);
        synchronized (ex) {
            ex.status = SessionStatus.APPROVED;
        }
        try {
            AnalysedRequest a = analyzer.analyse(h.body(), RequestAnalyzer.Operation.MESSAGES);
            Decision d = decideRequest(ex, h.principal(), a, h.sourceIp(), "messages", true, approver);
            if (d.outcome() != Outcome.ALLOW) {
                GatewayError e = d.outcome() == Outcome.DENY ? denied(d) : new GatewayError(403, "permission_error",
                        "Policy still requires approval after approval was granted.", d.policyIds());
                ex.errorType = e.type();
                ex.errorMessage = e.getMessage();
                ex.httpStatus = 403;
                return closeHeld(ex, SessionStatus.DENIED);
            }
            byte[] body = forwardBody(ex, a, h.body(), a.stream());
            if (!recordStrict(ex)) {
                ex.errorType = "api_error";
                ex.errorMessage = "The session could not be recorded, so the approved request was not forwarded.";
                ex.httpStatus = 503;
                return closeHeld(ex, SessionStatus.FAILED);
            }
            UpstreamResponse resp = callUpstream(ex, new UpstreamRequest("POST", "/v1/messages", body,
                    h.anthropicHeaders(), false));
            try (resp) {
                if (resp.status() != 200) {
                    upstreamError(ex, resp);
                    dropHeld(sessionId);
                    return ex.status;
                }
                ObjectNode message = parseObject(readBounded(resp.body(), config.maxReplyBytes()));
                if (message == null) {
                    throw new GatewayError(502, "api_error", "The upstream returned a reply that is not JSON.");
                }
                byte[] out = maskReply(ex, h.principal(), message);
                try {
                    heldStore.putReply(sessionId, out);
                } catch (IOException | RuntimeException e) {
                    // the owner then reads the recording's fully masked copy
                    LOG.warning("session " + sessionId + ": the owner's reply could not be kept ("
                            + e.getClass().getSimpleName() + ")");
                }
                ex.httpStatus = 200;
                return closeHeld(ex, SessionStatus.COMPLETED);
            }
        } catch (GatewayError e) {
            ex.errorType = e.type();
            ex.errorMessage = e.getMessage();
            ex.httpStatus = e.status();
            return closeHeld(ex, SessionStatus.FAILED);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "session " + ex.id + ": forward after approval failed " + e.getClass().getName(), e);
            ex.errorType = "api_error";
            ex.errorMessage = "The forward after approval failed.";
            ex.httpStatus = 502;
            return closeHeld(ex, SessionStatus.FAILED);
        }
    }

    /**
     * Use case: end a held request without forwarding it: an approver denied it
     * ({@link SessionStatus#REJECTED}), nobody decided in time ({@link SessionStatus#EXPIRED}),
     * or the workflow failed ({@link SessionStatus#FAILED}). Records the outcome in the index and
     * the recording and forgets the held request. A session that already ended is left alone.
     *
     * @param by     the approver who denied, or null
     * @param detail what failed, for {@link SessionStatus#FAILED} (recorded; never shown to approvers)
     * @return the session's status afterwards, or null if there is no such session
     */
    public SessionStatus endHeld(String sessionId, SessionStatus outcome, String by, String detail) {
        if (outcome != SessionStatus.REJECTED && outcome != SessionStatus.EXPIRED && outcome != SessionStatus.FAILED) {
            throw new IllegalArgumentException("a held request ends REJECTED, EXPIRED or FAILED, not " + outcome);
        }
        Principal p = null;
        try {
            p = heldStore.get(sessionId).map(HeldRequest::principal).orElse(null);
        } catch (IOException | RuntimeException e) {
            LOG.warning("session " + sessionId + ": the held request could not be read (" + e.getClass().getSimpleName()
                    + ")");
        }
        Exchange ex = heldExchange(sessionId, p);
        if (ex == null) {
            return null;
        }
        if (ex.status.terminal()) {
            return ex.status;
        }
        switch (outcome) {
            case REJECTED -> {
                ex.trail(clock.instant(), "denied", by, null);
                ex.errorType = "permission_error";
                ex.errorMessage = "An approver denied the request.";
                ex.httpStatus = 403;
            }
            case EXPIRED -> {
                ex.trail(clock.instant(), "expired", null, null);
                ex.errorType = "permission_error";
                ex.errorMessage = "Nobody approved the request in time.";
                ex.httpStatus = 403;
            }
            default -> {
                ex.trail(clock.instant(), "failed", null, null);
                ex.errorType = "api_error";
                ex.errorMessage = detail == null ? "The approval workflow failed." : truncate(detail, 500);
                ex.httpStatus = 500;
            }
        }
        return closeHeld(ex, outcome);
    }

    private SessionStatus closeHeld(Exchange ex, SessionStatus status) {
        metrics.count(GatewayMetrics.APPROVAL_PREFIX + switch (status) {
            case REJECTED -> "Rejected";
            case EXPIRED -> "Expired";
            case COMPLETED -> "Forwarded";
            default -> "Failed";
        });
        finish(ex, status);
        dropHeld(ex.id);
        return status;
    }

    /** The held session: this process's own exchange, or continued from its recording. */
    private Exchange heldExchange(String sessionId, Principal principal) {
        Exchange ex = heldExchanges.get(sessionId);
        if (ex != null) {
            return ex;
        }
        try {
            Optional<ObjectNode> rec = sessions.recording(sessionId);
            if (rec.isEmpty()) {
                LOG.warning("session " + sessionId + ": a held session has no recording");
                return null;
            }
            return Exchange.restore(rec.get(), principal);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the held session's recording could not be read", e);
        }
    }

    private GatewayResponse approval(Exchange ex, GatewayRequest req, String approvalId) {
        if (approvals == null) {
            throw GatewayError.notFound("Not found: approvals are not configured here.");
        }
        ApprovalPage page;
        if (req.method().equals("GET")) {
            page = approvals.view(approvalId, req.query());
        } else if (req.method().equals("POST")) {
            if (req.bodyTooLarge() || req.body().length > 8192) {
                throw new GatewayError(413, "request_too_large", "The form is too large.");
            }
            page = approvals.decide(approvalId, parseForm(RequestAnalyzer.decodeUtf8(req.body())));
        } else {
            throw new GatewayError(405, "invalid_request_error", "Method not allowed.");
        }
        ex.decision = page.outcome();
        ex.httpStatus = page.status();
        if (page.status() >= 400) {
            ex.errorType = "approval_" + page.outcome();
            ex.errorMessage = "approval link " + page.outcome();
        }
        finish(ex, page.status() < 400 ? SessionStatus.COMPLETED : SessionStatus.INVALID);
        return GatewayResponse.html(page.status(), page.html());
    }

    // ---------------------------------------------------------------- models and sessions

    private GatewayResponse models(Exchange ex, GatewayRequest req) {
        Principal p = authenticate(ex, req);
        writeAhead(ex);
        UpstreamResponse resp = callUpstream(ex, new UpstreamRequest("GET", "/v1/models" + modelsQuery(req), null,
                anthropicHeaders(req), false, ex.deadline));
        try (resp) {
            if (resp.status() != 200) {
                return upstreamError(ex, resp);
            }
            ObjectNode list = parseObject(readBounded(resp.body(), config.maxReplyBytes()));
            if (list == null || !list.path("data").isArray()) {
                throw new GatewayError(502, "api_error", "The upstream returned an unexpected model list.");
            }
            ArrayNode kept = Json.mapper().createArrayNode();
            for (JsonNode m : list.get("data")) {
                String id = m.path("id").asText("");
                if (id.isEmpty() || !modelPattern.matches(id)) {
                    continue;
                }
                Decision d = policies.decide(new AuthzRequest(EntityRef.user(p.id()), p.groups(), Action.invoke_model,
                        EntityRef.model(id), null, Contexts.invokeModel("", Set.of(), 1, false, 0, false, null,
                        req.sourceIp(), "list_models", Set.of(), Set.of(), Set.of())));
                if (d.outcome() != Outcome.DENY) {
                    kept.add(m);
                }
            }
            list.set("data", kept);
            ex.decision = "FILTERED";
            return complete(ex, GatewayResponse.json(200, bytes(list)));
        } catch (IOException e) {
            throw readFailure(e);
        }
    }

    private static String modelsQuery(GatewayRequest req) {
        StringBuilder q = new StringBuilder();
        for (String k : List.of("limit", "after_id", "before_id")) {
            String v = req.query().get(k);
            if (v != null && v.length() <= 128 && v.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-'
                    || c == '_' || c == '.')) {
                q.append(q.isEmpty() ? '?' : '&').append(k).append('=').append(v);
            }
        }
        return q.toString();
    }

    private boolean mayRead(Principal p, SessionSummary s) {
        if (s.principal() == null) {
            return policies.decide(new AuthzRequest(EntityRef.user(p.id()), p.groups(), Action.read_session,
                    EntityRef.session(s.id()), Map.of("owner", EntityRef.user("-"), "status", s.status().name()),
                    Contexts.readSession())).allowed();
        }
        return policies.decide(new AuthzRequest(EntityRef.user(p.id()), p.groups(), Action.read_session,
                EntityRef.session(s.id()), Map.of("owner", EntityRef.user(s.principal()), "status",
                s.status().name()), Contexts.readSession())).allowed();
    }

    /** The session, if it exists and the caller may read it; else the same 404 either way (no oracle). */
    private SessionSummary readableSession(Principal p, String id) {
        if (!SessionIds.isValid(id)) {
            throw GatewayError.notFound("Session not found.");
        }
        Optional<SessionSummary> found = sessions.summary(id);
        if (found.isEmpty() || !mayRead(p, found.get())) {
            throw GatewayError.notFound("Session not found.");
        }
        return found.get();
    }

    private GatewayResponse getSession(Exchange ex, GatewayRequest req, String id) {
        Principal p = authenticate(ex, req);
        SessionSummary s = readableSession(p, id);
        long waitSeconds = parseWait(req.query().get("wait"));
        if (waitSeconds > 0 && !s.status().terminal() && waiters.tryAcquire()) {
            try {
                long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
                long pause = 100;
                while (!s.status().terminal() && System.nanoTime() < deadline) {
                    Thread.sleep(pause);
                    // back off: each look is a strongly consistent read on AWS
                    pause = Math.min(1000, pause * 2);
                    s = sessions.summary(id).orElse(s);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                waiters.release();
            }
        }
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("type", "session");
        body.put("id", s.id());
        body.put("status", s.status().name());
        if (s.decision() != null) {
            body.put("decision", s.decision());
        }
        ArrayNode ids = body.putArray("policy_ids");
        s.policyIds().forEach(ids::add);
        body.put("started_at", s.startedAt().toString());
        if (s.endedAt() != null) {
            body.put("ended_at", s.endedAt().toString());
        }
        if (s.model() != null) {
            body.put("model", s.model());
        }
        if (s.status() == SessionStatus.COMPLETED || s.status().terminal()) {
            ObjectNode reply = p.id().equals(s.principal()) ? ownerReply(s.id()) : null;
            try {
                Optional<ObjectNode> rec = sessions.recording(s.id());
                if (reply == null && rec.isPresent() && rec.get().get("reply") instanceof ObjectNode r) {
                    reply = r;
                }
                if (rec.isPresent() && rec.get().get("error") instanceof ObjectNode e) {
                    body.set("error", e);
                }
            } catch (IOException e) {
                throw new GatewayError(500, "api_error", "The session recording could not be read.");
            }
            if (reply != null) {
                body.set("reply", reply);
            }
        }
        ex.decision = "READ";
        return complete(ex, GatewayResponse.json(200, bytes(body)));
    }

    private ObjectNode ownerReply(String sessionId) {
        try {
            Optional<byte[]> r = heldStore.reply(sessionId);
            return r.isPresent() && Json.mapper().readTree(r.get()) instanceof ObjectNode o ? o : null;
        } catch (IOException | RuntimeException e) {
            // fall back to the recording's fully masked copy
            LOG.warning("session " + sessionId + ": the owner's reply could not be read (" + e.getClass().getSimpleName()
                    + ")");
            return null;
        }
    }

    /** The full recorded exchange (masked content only), for the owner or anyone allowed read_session. */
    private GatewayResponse getRecording(Exchange ex, GatewayRequest req, String id) {
        readableSession(authenticate(ex, req), id);
        Optional<ObjectNode> rec;
        try {
            rec = sessions.recording(id);
        } catch (IOException e) {
            throw new GatewayError(500, "api_error", "The session recording could not be read.");
        }
        if (rec.isEmpty()) {
            throw GatewayError.notFound("The session has no recording yet.");
        }
        ex.decision = "READ";
        return complete(ex, GatewayResponse.json(200, bytes(rec.get())));
    }

    private long parseWait(String wait) {
        if (wait == null) {
            return 0;
        }
        try {
            long w = Long.parseLong(wait);
            if (w < 0) {
                throw GatewayError.invalid("wait: must be >= 0 seconds");
            }
            return Math.min(w, config.sessionWaitMax().toSeconds());
        } catch (NumberFormatException e) {
            throw GatewayError.invalid("wait: must be a whole number of seconds");
        }
    }

    private GatewayResponse listSessions(Exchange ex, GatewayRequest req) {
        Principal p = authenticate(ex, req);
        Map<String, String> q = req.query();
        SessionStatus status = null;
        if (q.get("status") != null) {
            try {
                status = SessionStatus.valueOf(q.get("status").toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw GatewayError.invalid("status: unknown status");
            }
        }
        String decision = q.get("decision") == null ? null : q.get("decision").toUpperCase(java.util.Locale.ROOT);
        if (decision != null && !Set.of("ALLOW", "DENY", "APPROVAL").contains(decision)) {
            throw GatewayError.invalid("decision: must be allow, deny or approval");
        }
        int limit = 50;
        if (q.get("limit") != null) {
            try {
                limit = Integer.parseInt(q.get("limit"));
            } catch (NumberFormatException e) {
                throw GatewayError.invalid("limit: must be a number");
            }
            if (limit < 1 || limit > SessionQuery.MAX_LIMIT) {
                throw GatewayError.invalid("limit: must be 1.." + SessionQuery.MAX_LIMIT);
            }
        }
        String cursor = q.get("cursor");
        if (cursor != null && !SessionIds.isValid(cursor)) {
            throw GatewayError.invalid("cursor: not a valid paging cursor");
        }
        String principal = q.get("principal");
        if (principal != null && principal.length() > 256) {
            throw GatewayError.invalid("principal: too long");
        }
        Instant from = instant(q, "from");
        Instant to = instant(q, "to");
        Instant earliest = Instant.EPOCH;
        Instant latest = clock.instant().plus(java.time.Duration.ofDays(1));
        if ((from != null && (from.isBefore(earliest) || from.isAfter(latest)))
                || (to != null && (to.isBefore(earliest) || to.isAfter(latest)))) {
            throw GatewayError.invalid("from/to: must lie between 1970-01-01 and tomorrow");
        }
        if (from != null && to != null && !from.isBefore(to)) {
            throw GatewayError.invalid("from: must be before to");
        }
        SessionQuery query = new SessionQuery(principal, status, decision, from, to, limit, cursor);
        SessionPage page = sessions.list(query, s -> mayRead(p, s));
        ObjectNode body = Json.mapper().createObjectNode();
        ArrayNode data = body.putArray("data");
        for (SessionSummary s : page.sessions()) {
            ObjectNode n = data.addObject();
            n.put("id", s.id());
            if (s.principal() != null) {
                n.put("principal", s.principal());
            }
            n.put("status", s.status().name());
            if (s.decision() != null) {
                n.put("decision", s.decision());
            }
            n.put("route", s.route());
            if (s.model() != null) {
                n.put("model", s.model());
            }
            n.put("http_status", s.httpStatus());
            ArrayNode ids = n.putArray("policy_ids");
            s.policyIds().forEach(ids::add);
            n.put("started_at", s.startedAt().toString());
            if (s.endedAt() != null) {
                n.put("ended_at", s.endedAt().toString());
            }
        }
        body.put("has_more", page.nextCursor() != null);
        if (page.nextCursor() != null) {
            body.put("next_cursor", page.nextCursor());
        }
        ex.decision = "READ";
        return complete(ex, GatewayResponse.json(200, bytes(body)));
    }

    private static Instant instant(Map<String, String> q, String name) {
        String v = q.get(name);
        if (v == null) {
            return null;
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw GatewayError.invalid(name + ": must be an ISO-8601 instant such as 2026-01-31T00:00:00Z");
        }
    }

    // ---------------------------------------------------------------- recording and errors

    private GatewayResponse complete(Exchange ex, GatewayResponse response) {
        ex.httpStatus = response.status();
        finish(ex, SessionStatus.COMPLETED);
        return response;
    }

    /** The one place where errors become HTTP responses. Records the session. */
    private GatewayResponse fail(Exchange ex, GatewayError e) {
        ex.httpStatus = e.status();
        ex.errorType = e.type();
        ex.errorMessage = e.getMessage();
        if (!e.policyIds().isEmpty()) {
            ex.policyIds = e.policyIds();
        }
        SessionStatus status;
        if (e.status() == 401) {
            status = SessionStatus.UNAUTHENTICATED;
        } else if (e.status() == 403 && "permission_error".equals(e.type())) {
            status = SessionStatus.DENIED;
        } else if (e.status() == 429 || e.status() >= 500) {
            status = SessionStatus.FAILED;
        } else {
            status = SessionStatus.INVALID;
        }
        finish(ex, status);
        return GatewayResponse.json(e.status(), bytes(errorBody(e.type(), e.getMessage(), e.policyIds(), ex.id)));
    }

    static ObjectNode errorBody(String type, String message, List<String> policyIds, String sessionId) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("type", "error");
        ObjectNode err = body.putObject("error");
        err.put("type", type);
        err.put("message", message);
        if (!policyIds.isEmpty()) {
            ArrayNode ids = err.putArray("policy_ids");
            policyIds.forEach(ids::add);
        }
        body.put("request_id", sessionId);
        return body;
    }

    private void finish(Exchange ex, SessionStatus status) {
        synchronized (ex) {
            ex.status = status;
            ex.endedAt = clock.instant();
        }
        record(ex);
    }

    /** Write-ahead for the approval path: false if it failed and fail-open is off. */
    private boolean recordStrict(Exchange ex) {
        try {
            synchronized (ex) {
                sessions.complete(ex.summary(), ex.recording());
            }
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warning("session " + ex.id + ": write-ahead before the approved forward failed ("
                    + e.getClass().getSimpleName() + ")");
            return config.failOpen();
        }
    }

    private void record(Exchange ex) {
        if (ex.doNotRecord) {
            return;
        }
        try {
            synchronized (ex) {
                sessions.complete(ex.summary(), ex.recording());
            }
        } catch (IOException | RuntimeException e) {
            metrics.count(GatewayMetrics.RECORDING_FAILED);
            LOG.log(Level.SEVERE, "session " + ex.id + ": recording failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static Map<String, String> parseForm(String body) {
        Map<String, String> form = new HashMap<>();
        for (String pair : body.split("&", 32)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            try {
                form.putIfAbsent(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw GatewayError.invalid("The form is not valid.");
            }
        }
        return form;
    }

    private static byte[] readBounded(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        byte[] buf = new byte[8192];
        int total = 0;
        int n;
        while ((n = in.read(buf)) != -1) {
            total += n;
            if (total > max) {
                throw new GatewayError(502, "api_error", "The upstream reply is larger than the gateway allows.");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    private static ObjectNode parseObject(byte[] body) {
        try {
            JsonNode n = Json.mapper().readTree(body);
            return n instanceof ObjectNode o ? o : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return Json.mapper().writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void closeQuietly(UpstreamResponse resp) {
        try {
            resp.close();
        } catch (IOException ignored) {
            // nothing left to do with a body we will not read
        }
    }

    private static String routeName(GatewayRequest req) {
        String p = req.path();
        if (p.startsWith("/v1/sessions/") && p.endsWith("/recording")) {
            p = "/v1/sessions/{id}/recording";
        } else if (p.startsWith("/v1/sessions/")) {
            p = "/v1/sessions/{id}";
        } else if (p.startsWith("/approvals/")) {
            p = "/approvals/{id}";
        }
        return req.method() + " " + truncate(p, 100);
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    private static String truncateOrNull(String s, int max) {
        return s == null ? null : truncate(s, max);
    }
}
