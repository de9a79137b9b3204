package dev.policygate.aws.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import dev.policygate.aws.logging.LambdaLogging;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.core.gateway.GatewayRequest;
import dev.policygate.core.gateway.GatewayResponse;
import dev.policygate.core.gateway.ResponseSink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The gateway behind API Gateway (REST API, Lambda proxy integration). It only translates: the
 * proxy event into a {@link GatewayRequest}, and the {@link GatewayResponse} back into a proxy
 * response. Authentication, policy, masking, recording and every error response are the
 * {@link Gateway}'s.
 *
 * <p>Limits: the Java runtime cannot stream a proxy response, so a streamed reply
 * ({@code "stream": true}) is relayed complete: the whole Server-Sent Events body, framed as the
 * upstream framed it, arrives at once. Every response must fit Lambda's 6 MB response limit.
 * Approvals are not wired on AWS yet; a request that needs one is refused with 403.
 */
public final class GatewayHandler implements RequestHandler<APIGatewayProxyRequestEvent, APIGatewayProxyResponseEvent> {
    static {
        LambdaLogging.install();
    }

    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private final Gateway gateway;
    private final int maxBodyBytes;

    /**
     * Lambda's constructor: reads the environment ({@link AwsSettings}) and builds the gateway
     * once, during INIT. Calls no AWS API; fails fast, naming the variable, on bad settings.
     */
    public GatewayHandler() {
        this(AwsSettings.fromEnvironment(System.getenv()));
    }

    private GatewayHandler(AwsSettings settings) {
        this(LambdaWiring.production(settings), settings.maxBodyBytes());
    }

    /**
     * For tests: a ready gateway.
     *
     * @param maxBodyBytes the body limit the gateway was configured with; larger bodies are passed
     *                     on as too large (413) without their content
     */
    public GatewayHandler(Gateway gateway, int maxBodyBytes) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be positive");
        }
        this.maxBodyBytes = maxBodyBytes;
    }

    /** Time kept back from the invocation's remaining time, to record the outcome before Lambda stops. */
    static final long RECORDING_RESERVE_MS = 3_000;

    @Override
    public APIGatewayProxyResponseEvent handleRequest(APIGatewayProxyRequestEvent event, Context context) {
        java.time.Instant deadline = context == null ? null : java.time.Instant.now().plusMillis(
                Math.max(0, context.getRemainingTimeInMillis() - RECORDING_RESERVE_MS));
        // the gateway creates the session id: its first "session <id>:" line sets session_id
        return LambdaLogging.invocation(context, null, () -> toProxyResponse(gateway.handle(toGatewayRequest(
                event == null ? new APIGatewayProxyRequestEvent() : event, maxBodyBytes), deadline)));
    }

    static GatewayRequest toGatewayRequest(APIGatewayProxyRequestEvent event, int maxBodyBytes) {
        byte[] body = body(event);
        boolean tooLarge = body.length > maxBodyBytes;
        String method = event.getHttpMethod() == null ? "" : event.getHttpMethod().toUpperCase(Locale.ROOT);
        String path = event.getPath() == null || event.getPath().isEmpty() ? "/" : event.getPath();
        return new GatewayRequest(method, path, query(event), headers(event), tooLarge ? new byte[0] : body,
                tooLarge, sourceIp(event));
    }

    static APIGatewayProxyResponseEvent toProxyResponse(GatewayResponse response) {
        byte[] body = response.streaming() ? drain(response.streamingBody()) : response.body();
        return new APIGatewayProxyResponseEvent()
                .withStatusCode(response.status())
                .withHeaders(new LinkedHashMap<>(response.headers()))
                .withIsBase64Encoded(false)
                .withBody(body == null ? "" : new String(body, StandardCharsets.UTF_8));
    }

    /**
     * The body bytes. A body that claims to be base64 but is not (API Gateway never sends one)
     * becomes empty, which the gateway refuses as malformed on routes that need a body.
     */
    private static byte[] body(APIGatewayProxyRequestEvent event) {
        String body = event.getBody();
        if (body == null || body.isEmpty()) {
            return new byte[0];
        }
        if (Boolean.TRUE.equals(event.getIsBase64Encoded())) {
            try {
                return Base64.getDecoder().decode(body);
            } catch (IllegalArgumentException e) {
                return new byte[0];
            }
        }
        return body.getBytes(StandardCharsets.UTF_8);
    }

    /** Lower-cased names, first value of each; from multiValueHeaders only when headers is absent. */
    private static Map<String, String> headers(APIGatewayProxyRequestEvent event) {
        Map<String, String> out = new HashMap<>();
        if (event.getHeaders() != null) {
            event.getHeaders().forEach((name, value) -> put(out, name, value));
        } else if (event.getMultiValueHeaders() != null) {
            event.getMultiValueHeaders().forEach((name, values) -> put(out, name, first(values)));
        }
        return out;
    }

    /** API Gateway has already decoded the values; the first of repeated parameters wins. */
    private static Map<String, String> query(APIGatewayProxyRequestEvent event) {
        Map<String, String> out = new HashMap<>();
        if (event.getMultiValueQueryStringParameters() != null) {
            event.getMultiValueQueryStringParameters().forEach((name, values) -> putExact(out, name, first(values)));
        } else if (event.getQueryStringParameters() != null) {
            event.getQueryStringParameters().forEach((name, value) -> putExact(out, name, value));
        }
        return out;
    }

    /**
     * The address API Gateway saw. Never {@code x-forwarded-for}, which the caller writes. Anything
     * that is not an IP literal (the console's test invoke sends {@code test-invoke-source-ip})
     * is dropped, and the gateway records its unknown-address placeholder.
     */
    private static String sourceIp(APIGatewayProxyRequestEvent event) {
        if (event.getRequestContext() == null || event.getRequestContext().getIdentity() == null) {
            return null;
        }
        String ip = event.getRequestContext().getIdentity().getSourceIp();
        if (ip == null || ip.length() > 45 || !(IPV4.matcher(ip).matches() || IPV6.matcher(ip).matches())) {
            return null;
        }
        try {
            // a literal (dotted quad, or with a colon): no name lookup happens
            return InetAddress.getByName(ip).getHostAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * Largest SSE body returned from one invocation. Lambda's response limit is 6 MB after JSON
     * escaping, which can double a body; beyond this the stream is cut, the client gets an SSE
     * {@code error} event, and the session is recorded as failed (not as a success).
     */
    static final int MAX_STREAM_BYTES = 2_800_000;
    private static final byte[] TOO_LARGE_EVENT = ("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
            + "\"api_error\",\"message\":\"The streamed reply is larger than a Lambda response can carry; use a "
            + "smaller max_tokens.\"}}\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private static byte[] drain(GatewayResponse.StreamingBody streamingBody) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(16 * 1024);
        boolean[] cut = new boolean[1];
        try {
            streamingBody.writeTo(new ResponseSink() {
                @Override
                public void write(byte[] bytes) throws IOException {
                    if (cut[0] || buffer.size() + bytes.length > MAX_STREAM_BYTES) {
                        cut[0] = true;
                        throw new IOException("the streamed reply exceeds the Lambda response limit");
                    }
                    buffer.write(bytes, 0, bytes.length);
                }

                @Override
                public void flush() {
                    // the whole body goes out when the invocation returns
                }
            });
        } catch (IOException e) {
            // the sink throws only when the cap is reached, and the gateway catches that itself
            throw new UncheckedIOException(e);
        }
        if (cut[0]) {
            buffer.write(TOO_LARGE_EVENT, 0, TOO_LARGE_EVENT.length);
        }
        return buffer.toByteArray();
    }

    private static void put(Map<String, String> out, String name, String value) {
        if (name != null && value != null) {
            out.putIfAbsent(name.toLowerCase(Locale.ROOT), value);
        }
    }

    private static void putExact(Map<String, String> out, String name, String value) {
        if (name != null && value != null) {
            out.putIfAbsent(name, value);
        }
    }

    private static String first(List<String> values) {
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
