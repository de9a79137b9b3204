package dev.policygate.bench;

import dev.policygate.aws.lambda.AwsSettings;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.auth.GatewayAuthenticator;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.core.gateway.GatewayConfig;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.TextMasker;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The {@link Gateway} assembled as {@code dev.policygate.aws.lambda.LambdaWiring} assembles it
 * (same limits, masker, analyser, authenticator, background pool and clock), but with its
 * storage, key store and Claude in memory: a warm Lambda minus the network. One gateway key,
 * for principal {@value #PRINCIPAL} in group {@code developers}. Close it to stop the pool.
 */
final class InMemoryGateway implements AutoCloseable {
    static final String PRINCIPAL = "dev";
    /** The function's default body limit. */
    static final int MAX_BODY_BYTES = AwsSettings.DEFAULT_MAX_BODY_BYTES;
    // LambdaWiring's own limits, package-private there
    private static final int MAX_REPLY_BYTES = 4 * 1024 * 1024;
    private static final int MAX_SSE_EVENT_BYTES = 1024 * 1024;
    private static final Duration SESSION_WAIT_MAX = Duration.ofSeconds(20);
    private static final int BACKGROUND_THREADS = 4;

    final Gateway gateway;
    final InMemorySessionStore sessions = new InMemorySessionStore();
    /** The one valid gateway key. */
    final String apiKey = ApiKeys.newKey();
    private final ExecutorService background;

    InMemoryGateway(CedarPolicyEngine policies, byte[] upstreamReply) {
        DetectorSet detectors = DetectorSet.builtIns();
        TextMasker masker = new TextMasker(detectors, MaskingConfig.defaults(null));
        RequestAnalyzer analyzer = new RequestAnalyzer(detectors);
        InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
        String hash = ApiKeys.hash(apiKey);
        keys.put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, PRINCIPAL, Set.of("developers"), "dev@example.com",
                Instant.now(), false));
        GatewayAuthenticator auth = new GatewayAuthenticator(Optional.empty(), keys);
        background = Executors.newFixedThreadPool(BACKGROUND_THREADS, r -> {
            Thread t = new Thread(r, "policygate-background");
            t.setDaemon(true);
            return t;
        });
        GatewayConfig config = new GatewayConfig(MAX_BODY_BYTES, MAX_REPLY_BYTES, MAX_SSE_EVENT_BYTES,
                GatewayConfig.DEFAULT_MODEL_PATTERN, "", false, SESSION_WAIT_MAX);
        gateway = new Gateway(config, auth, policies, analyzer, masker, new FixedReplyUpstream(upstreamReply),
                sessions, null, Clock.systemUTC(), background);
    }

    @Override
    public void close() {
        background.shutdownNow();
    }
}
