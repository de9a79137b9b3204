package dev.policygate.adapters.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.policygate.core.json.Json;
import dev.policygate.core.upstream.ClaudeUpstream;
import dev.policygate.core.upstream.UpstreamException;
import dev.policygate.core.upstream.UpstreamRequest;
import dev.policygate.core.upstream.UpstreamResponse;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.DefaultRetryStrategy;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;
import software.amazon.awssdk.services.bedrockruntime.model.CountTokensResponse;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelResponse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Claude through Amazon Bedrock: the Messages API mapped onto {@code bedrock-runtime}
 * InvokeModel, signed with SigV4 by the AWS SDK from the function's IAM role, so no API key
 * exists anywhere.
 *
 * <h2>Mapping</h2>
 * <ul>
 *   <li>{@code POST /v1/messages}: the body minus {@code model} and {@code stream}, plus
 *       {@code anthropic_version: bedrock-2023-05-31}; an {@code anthropic-beta} header becomes the
 *       {@code anthropic_beta} array. The model id comes from {@link BedrockModelIds}.</li>
 *   <li>{@code stream: true}: Bedrock's reply is complete before it is relayed, and is rendered as
 *       Anthropic's Server-Sent Events ({@link SseFromMessage}). On Lambda this changes nothing,
 *       because the Java runtime returns a response whole; elsewhere the client sees no
 *       incremental text. (InvokeModelWithResponseStream needs the SDK's asynchronous HTTP
 *       clients, which this jar excludes.)</li>
 *   <li>{@code POST /v1/messages/count_tokens}: Bedrock CountTokens.</li>
 *   <li>{@code GET /v1/models}: the explicitly mapped models only; Bedrock's model catalogue is
 *       a different API and permission.</li>
 *   <li>Bedrock errors come back with Anthropic's error shape and the closest Anthropic status
 *       (429 rate_limit_error, 529 overloaded_error, ...). Network failures and timeouts are
 *       {@link UpstreamException}s, like the HTTP upstream's. No retries here: the caller's SDK
 *       retries, and a model call is never silently repeated.</li>
 * </ul>
 */
public final class BedrockClaudeUpstream implements ClaudeUpstream {
    public static final String BEDROCK_ANTHROPIC_VERSION = "bedrock-2023-05-31";
    /** Until the complete reply has arrived, when the request has no earlier deadline. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private final BedrockRuntimeClient client;
    private final BedrockModelIds models;
    private final Duration timeout;
    private final ObjectMapper json = Json.mapper();
    private final SseFromMessage sse = new SseFromMessage(json);

    /**
     * @param client  a client built once (see {@link #create}); tests point it at a mock endpoint
     * @param models  how client model names map to Bedrock model ids
     * @param timeout the longest wait for a complete reply
     */
    public BedrockClaudeUpstream(BedrockRuntimeClient client, BedrockModelIds models, Duration timeout) {
        this.client = Objects.requireNonNull(client, "client");
        this.models = Objects.requireNonNull(models, "models");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /**
     * The production adapter: a Bedrock client in {@code region} with the default credentials
     * (the Lambda role), the URLConnection HTTP client and no retries.
     *
     * @param profilePrefix inference profile prefix such as {@code us.}; empty for in-region ids
     */
    public static BedrockClaudeUpstream create(String region, String profilePrefix) {
        BedrockRuntimeClient client = BedrockRuntimeClient.builder()
                .region(Region.of(region))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(5))
                        // a non-streamed generation sends nothing until it is complete
                        .socketTimeout(DEFAULT_TIMEOUT)
                        .build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(DefaultRetryStrategy.doNotRetry())
                        .build())
                .build();
        return new BedrockClaudeUpstream(client, BedrockModelIds.withPrefix(profilePrefix), DEFAULT_TIMEOUT);
    }

    @Override
    public UpstreamResponse send(UpstreamRequest request) throws UpstreamException {
        Duration wait = timeLeft(request.deadline());
        String path = request.path();
        int query = path.indexOf('?');
        String route = query < 0 ? path : path.substring(0, query);
        if ("POST".equals(request.method()) && route.equals("/v1/messages")) {
            return messages(request, wait);
        }
        if ("POST".equals(request.method()) && route.equals("/v1/messages/count_tokens")) {
            return countTokens(request, wait);
        }
        if ("GET".equals(request.method()) && route.equals("/v1/models")) {
            return models();
        }
        return error(404, "not_found_error", "not available through the Bedrock upstream: " + request.method() + " "
                + route);
    }

    @Override
    public String describe() {
        return "bedrock-runtime " + client.serviceClientConfiguration().region()
                + (models.profilePrefix().isEmpty() ? "" : " profile " + models.profilePrefix());
    }

    private UpstreamResponse messages(UpstreamRequest request, Duration wait) throws UpstreamException {
        ObjectNode body = parse(request.body());
        if (body == null) {
            return error(400, "invalid_request_error", "the request body must be a JSON object");
        }
        Optional<String> modelId = models.bedrockId(body.path("model").asText(null));
        if (modelId.isEmpty()) {
            return error(404, "not_found_error", "model " + body.path("model").asText("(none)")
                    + " has no Bedrock model id; use a dated Claude model id or configure the mapping");
        }
        boolean stream = body.path("stream").asBoolean(false);
        byte[] bedrockBody = toBedrockBody(body, request.headers());
        try {
            InvokeModelResponse resp = client.invokeModel(b -> b.modelId(modelId.get())
                    .contentType("application/json").accept("application/json")
                    .body(SdkBytes.fromByteArray(bedrockBody))
                    .overrideConfiguration(o -> o.apiCallTimeout(wait)));
            byte[] reply = resp.body().asByteArray();
            String requestId = resp.responseMetadata().requestId();
            if (!stream) {
                return response(200, "application/json", reply, requestId);
            }
            JsonNode message = json.readTree(reply);
            return response(200, "text/event-stream", sse.render(message), requestId);
        } catch (AwsServiceException e) {
            return serviceError(e);
        } catch (SdkException e) {
            throw clientFailure(e);
        } catch (IOException e) {
            return error(502, "api_error", "Bedrock returned a reply that is not JSON");
        }
    }

    private UpstreamResponse countTokens(UpstreamRequest request, Duration wait) throws UpstreamException {
        ObjectNode body = parse(request.body());
        if (body == null) {
            return error(400, "invalid_request_error", "the request body must be a JSON object");
        }
        Optional<String> modelId = models.bedrockId(body.path("model").asText(null));
        if (modelId.isEmpty()) {
            return error(404, "not_found_error", "model " + body.path("model").asText("(none)")
                    + " has no Bedrock model id");
        }
        if (!body.has("max_tokens")) {
            // CountTokens takes an InvokeModel body, which requires max_tokens; it does not affect the count
            body.put("max_tokens", 1);
        }
        byte[] bedrockBody = toBedrockBody(body, request.headers());
        try {
            CountTokensResponse resp = client.countTokens(b -> b
                    .modelId(BedrockModelIds.foundationModel(modelId.get()))
                    .input(i -> i.invokeModel(m -> m.body(SdkBytes.fromByteArray(bedrockBody))))
                    .overrideConfiguration(o -> o.apiCallTimeout(wait)));
            ObjectNode out = json.createObjectNode().put("input_tokens", resp.inputTokens());
            return response(200, "application/json", json.writeValueAsBytes(out), resp.responseMetadata().requestId());
        } catch (AwsServiceException e) {
            return serviceError(e);
        } catch (SdkException e) {
            throw clientFailure(e);
        } catch (IOException e) {
            return error(502, "api_error", "cannot write the token count");
        }
    }

    private UpstreamResponse models() {
        ObjectNode out = json.createObjectNode();
        ArrayNode data = out.putArray("data");
        models.overrides().keySet().stream().sorted().forEach(id ->
                data.addObject().put("type", "model").put("id", id).put("display_name", id));
        out.put("has_more", false);
        out.put("first_id", data.isEmpty() ? null : data.get(0).get("id").asText());
        out.put("last_id", data.isEmpty() ? null : data.get(data.size() - 1).get("id").asText());
        try {
            return response(200, "application/json", json.writeValueAsBytes(out), null);
        } catch (IOException e) {
            return error(500, "api_error", "cannot list models");
        }
    }

    /** The Messages body as Bedrock takes it. */
    private byte[] toBedrockBody(ObjectNode body, Map<String, String> headers) {
        ObjectNode out = json.createObjectNode().put("anthropic_version", BEDROCK_ANTHROPIC_VERSION);
        String beta = header(headers, "anthropic-beta");
        if (beta != null && !beta.isBlank()) {
            ArrayNode betas = out.putArray("anthropic_beta");
            for (String b : beta.split(",")) {
                if (!b.isBlank()) {
                    betas.add(b.strip());
                }
            }
        }
        body.fields().forEachRemaining(f -> {
            if (!f.getKey().equals("model") && !f.getKey().equals("stream")
                    && !f.getKey().equals("anthropic_version")) {
                out.set(f.getKey(), f.getValue());
            }
        });
        try {
            return json.writeValueAsBytes(out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the Bedrock body", e);
        }
    }

    private ObjectNode parse(byte[] body) {
        if (body == null) {
            return null;
        }
        try {
            JsonNode node = json.readTree(body);
            return node instanceof ObjectNode o ? o : null;
        } catch (IOException e) {
            return null;
        }
    }

    private Duration timeLeft(Instant deadline) throws UpstreamException {
        if (deadline == null) {
            return timeout;
        }
        Duration left = Duration.between(Instant.now(), deadline);
        if (left.isNegative() || left.isZero()) {
            throw new UpstreamException(UpstreamException.Kind.TIMEOUT, "no time left before the deadline", null);
        }
        return left.compareTo(timeout) < 0 ? left : timeout;
    }

    /** Bedrock's error, in Anthropic's shape and with the closest Anthropic status. */
    private UpstreamResponse serviceError(AwsServiceException e) {
        String code = e.awsErrorDetails() == null ? "" : String.valueOf(e.awsErrorDetails().errorCode());
        String message = e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null
                ? code : e.awsErrorDetails().errorMessage();
        int status = e.statusCode();
        return switch (code) {
            case "ValidationException" -> error(400, "invalid_request_error", message);
            case "AccessDeniedException" -> error(403, "permission_error",
                    "Bedrock refused the gateway's role for this model: " + message);
            case "ResourceNotFoundException" -> error(404, "not_found_error", message);
            case "ThrottlingException", "ServiceQuotaExceededException" -> error(429, "rate_limit_error", message);
            case "ModelTimeoutException" -> error(504, "api_error", "the model timed out: " + message);
            case "ServiceUnavailableException", "ModelNotReadyException" -> error(529, "overloaded_error", message);
            default -> status >= 400 && status < 500
                    ? error(status, "invalid_request_error", message)
                    : error(502, "api_error", "Bedrock failed: " + code);
        };
    }

    private static UpstreamException clientFailure(SdkException e) {
        if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
            return new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null);
        }
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof ConnectException) {
                return new UpstreamException(UpstreamException.Kind.CONNECT, "connection refused", null);
            }
            if (c instanceof java.net.SocketTimeoutException) {
                return new UpstreamException(UpstreamException.Kind.TIMEOUT, "timed out", null);
            }
        }
        if (e instanceof SdkClientException && e.getMessage() != null
                && e.getMessage().toLowerCase(Locale.ROOT).contains("unable to load credentials")) {
            return new UpstreamException(UpstreamException.Kind.CONNECT, "the upstream credential is unavailable", null);
        }
        return new UpstreamException(UpstreamException.Kind.IO, "I/O error " + e.getClass().getSimpleName(), null);
    }

    private UpstreamResponse error(int status, String type, String message) {
        ObjectNode out = json.createObjectNode().put("type", "error");
        out.putObject("error").put("type", type).put("message", message);
        try {
            return response(status, "application/json", json.writeValueAsBytes(out), null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static UpstreamResponse response(int status, String contentType, byte[] body, String requestId) {
        Map<String, String> headers = requestId == null ? Map.of("content-type", contentType)
                : Map.of("content-type", contentType, "request-id", requestId);
        return new UpstreamResponse(status, headers, new ByteArrayInputStream(body));
    }

    private static String header(Map<String, String> headers, String name) {
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }
}
