package dev.policygate.local;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.adapters.upstream.HttpClaudeUpstream;
import dev.policygate.core.analysis.RequestAnalyzer;
import dev.policygate.core.approval.ApprovalLinks;
import dev.policygate.core.approval.ApprovalService;
import dev.policygate.core.approval.InMemoryApprovalStore;
import dev.policygate.core.auth.GatewayAuthenticator;
import dev.policygate.core.auth.JwtVerifier;
import dev.policygate.core.auth.OidcConfig;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.detect.DataClass;
import dev.policygate.core.detect.DetectorSet;
import dev.policygate.core.gateway.Gateway;
import dev.policygate.core.gateway.GatewayConfig;
import dev.policygate.core.gateway.GatewayLimits;
import dev.policygate.core.json.Json;
import dev.policygate.core.masking.MaskingConfig;
import dev.policygate.core.masking.MaskingStrategy;
import dev.policygate.core.masking.TextMasker;
import dev.policygate.core.upstream.ClaudeUpstream;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Wires the core with the local adapters (files, in-process approvals, the JDK HTTP server)
 * and runs it. Used by {@code serve} and by the end-to-end tests.
 */
public final class LocalGateway implements AutoCloseable {
    /** Local mode settings. Validated here, once. */
    public record Options(String host, int port, Path dataDir, Path policiesDir, URI upstreamUrl,
                          String upstreamApiKey, Duration approvalTimeout, int maxBodyBytes, String publicBaseUrl,
                          OidcConfig oidc, Path maskingFile, boolean failOpen, int threads, Clock clock,
                          Duration upstreamIdleTimeout, GatewayLimits limits) {
        public Options {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("--bind must be a host address");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port must be 0..65535");
            }
            if (dataDir == null) {
                throw new IllegalArgumentException("--data-dir is required");
            }
            if (policiesDir == null || !Files.isDirectory(policiesDir)) {
                throw new IllegalArgumentException("--policies must be a directory holding policygate.cedarschema "
                        + "and *.cedar files: " + policiesDir);
            }
            if (approvalTimeout == null || approvalTimeout.isNegative() || approvalTimeout.isZero()) {
                throw new IllegalArgumentException("--approval-timeout must be positive");
            }
            if (threads < 1 || threads > 1024) {
                throw new IllegalArgumentException("--threads must be 1..1024");
            }
            clock = clock == null ? Clock.systemUTC() : clock;
            upstreamIdleTimeout = upstreamIdleTimeout == null ? Duration.ofMinutes(2) : upstreamIdleTimeout;
            if (upstreamIdleTimeout.isNegative() || upstreamIdleTimeout.isZero()) {
                throw new IllegalArgumentException("--upstream-idle-timeout must be positive");
            }
            limits = limits == null ? GatewayLimits.defaults() : limits;
        }

        public Options withLimits(GatewayLimits l) {
            return new Options(host, port, dataDir, policiesDir, upstreamUrl, upstreamApiKey, approvalTimeout,
                    maxBodyBytes, publicBaseUrl, oidc, maskingFile, failOpen, threads, clock, upstreamIdleTimeout, l);
        }

        public Options withUpstreamIdleTimeout(Duration d) {
            return new Options(host, port, dataDir, policiesDir, upstreamUrl, upstreamApiKey, approvalTimeout,
                    maxBodyBytes, publicBaseUrl, oidc, maskingFile, failOpen, threads, clock, d, limits);
        }

        public static Options defaults(Path dataDir, Path policiesDir) {
            return new Options("127.0.0.1", 8787, dataDir, policiesDir, null, null, Duration.ofHours(1),
                    6 * 1024 * 1024, null, null, null, false, 64, null, null, null);
        }

        public Options withPort(int p) {
            return new Options(host, p, dataDir, policiesDir, upstreamUrl, upstreamApiKey, approvalTimeout,
                    maxBodyBytes, publicBaseUrl, oidc, maskingFile, failOpen, threads, clock, upstreamIdleTimeout, limits);
        }

        public Options withUpstream(URI url, String key) {
            return new Options(host, port, dataDir, policiesDir, url, key, approvalTimeout, maxBodyBytes,
                    publicBaseUrl, oidc, maskingFile, failOpen, threads, clock, upstreamIdleTimeout, limits);
        }

        public Options withApprovalTimeout(Duration t) {
            return new Options(host, port, dataDir, policiesDir, upstreamUrl, upstreamApiKey, t, maxBodyBytes,
                    publicBaseUrl, oidc, maskingFile, failOpen, threads, clock, upstreamIdleTimeout, limits);
        }

        public Options withOidc(OidcConfig o) {
            return new Options(host, port, dataDir, policiesDir, upstreamUrl, upstreamApiKey, approvalTimeout,
                    maxBodyBytes, publicBaseUrl, o, maskingFile, failOpen, threads, clock, upstreamIdleTimeout, limits);
        }

        public Options withMaxBodyBytes(int b) {
            return new Options(host, port, dataDir, policiesDir, upstreamUrl, upstreamApiKey, approvalTimeout, b,
                    publicBaseUrl, oidc, maskingFile, failOpen, threads, clock, upstreamIdleTimeout, limits);
        }

        public Options withMaskingFile(Path f) {
            return new Options(host, port, dataDir, policiesDir, upstreamUrl, upstreamApiKey, approvalTimeout,
                    maxBodyBytes, publicBaseUrl, oidc, f, failOpen, threads, clock, upstreamIdleTimeout, limits);
        }
    }

    /** The longest a request may take end to end, upstream included (the upstream client's own cap). */
    static final Duration MAX_REQUEST_TIME = Duration.ofMinutes(10);
    private final LocalServer server;
    private final ExecutorService background;
    private final ScheduledExecutorService scheduler;
    private final ClaudeUpstream upstream;
    private final CedarPolicyEngine policies;
    private final String baseUrl;
    private FileSessionStore sessions;

    private LocalGateway(LocalServer server, ExecutorService background, ScheduledExecutorService scheduler,
                         ClaudeUpstream upstream, CedarPolicyEngine policies, String baseUrl) {
        this.server = server;
        this.background = background;
        this.scheduler = scheduler;
        this.upstream = upstream;
        this.policies = policies;
        this.baseUrl = baseUrl;
    }

    /** Builds everything and starts listening. Fails fast, naming the bad setting. */
    public static LocalGateway start(Options o, PrintStream console) throws IOException {
        Path data = createPrivateDir(o.dataDir());
        CedarPolicyEngine policies = CedarPolicyEngine.load(o.policiesDir());
        MaskingSettings masking = MaskingSettings.load(o.maskingFile(), secretFile(data.resolve("masking.key")));
        DetectorSet detectors = masking.detectors();
        TextMasker masker = new TextMasker(detectors, masking.config());
        ClaudeUpstream upstream = upstream(o);
        FileApiKeyStore keys = FileApiKeyStore.open(data);
        Optional<JwtVerifier> jwt = o.oidc() == null ? Optional.empty() : Optional.of(new JwtVerifier(o.oidc()));
        GatewayAuthenticator auth = new GatewayAuthenticator(jwt, keys);
        FileSessionStore sessions = FileSessionStore.open(data);
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(daemon("policygate-timer"));
        ExecutorService background = Executors.newFixedThreadPool(4, daemon("policygate-forward"));
        FileApproverDirectory.writeDefaultIfAbsent(data, "approver@example.com");

        // the port is only known after binding, and links need it: bind first, then wire
        GatewayHolder holder = new GatewayHolder();
        // a total deadline per request: an upstream that trickles bytes just faster than the idle
        // timeout cannot hold a request thread for longer (it gets a 504 or an SSE error event)
        LocalServer server = new LocalServer(req -> holder.get().handle(req,
                java.time.Instant.now().plus(MAX_REQUEST_TIME)), o.host(), o.port(), o.threads(), o.maxBodyBytes());
        String baseUrl = o.publicBaseUrl() != null ? o.publicBaseUrl()
                : "http://" + (o.host().contains(":") ? "[" + o.host() + "]" : o.host()) + ":" + server.port();
        ApprovalService approvals = new ApprovalService(new InMemoryApprovalStore(),
                new OutboxNotifier(data, console), new FileApproverDirectory(data),
                new ApprovalLinks(secretFile(data.resolve("signing.key"))), policies, o.clock(), o.approvalTimeout(),
                baseUrl, scheduler);
        GatewayConfig config = new GatewayConfig(o.maxBodyBytes(), o.limits(), GatewayConfig.DEFAULT_MODEL_PATTERN,
                baseUrl, o.failOpen(), Duration.ofSeconds(20));
        holder.set(new Gateway(config, auth, policies,
                new RequestAnalyzer(detectors, o.limits().maxMessages(), o.limits().maxTools()), masker, upstream, sessions,
                approvals, o.clock(), background));
        server.start();
        LocalGateway gateway = new LocalGateway(server, background, scheduler, upstream, policies, baseUrl);
        gateway.sessions = sessions;
        return gateway;
    }

    private static ClaudeUpstream upstream(Options o) {
        String key = o.upstreamApiKey();
        if (o.upstreamUrl() != null) {
            // Apache's blocking client locally (no selector hand-off; at least as fast as Jetty's in bench runs);
            // -Dpolicygate.upstream.client=jetty|jdk switches
            return new HttpClaudeUpstream(o.upstreamUrl(), () -> key, Duration.ofSeconds(5), Duration.ofMinutes(10),
                    o.upstreamIdleTimeout(), HttpClaudeUpstream.Client.chosen(HttpClaudeUpstream.Client.APACHE));
        }
        if (key != null && !key.isBlank()) {
            return new HttpClaudeUpstream(URI.create("https://api.anthropic.com"), () -> key, Duration.ofSeconds(5),
                    Duration.ofMinutes(10), o.upstreamIdleTimeout(),
                    HttpClaudeUpstream.Client.chosen(HttpClaudeUpstream.Client.APACHE));
        }
        return new EchoUpstream();
    }

    public int port() {
        return server.port();
    }

    public String baseUrl() {
        return baseUrl;
    }

    public ClaudeUpstream upstream() {
        return upstream;
    }

    public int policyCount() {
        return policies.policyCount();
    }

    @Override
    public void close() {
        server.close();
        background.shutdownNow();
        scheduler.shutdownNow();
        if (sessions != null) {
            try {
                // the final group commit, also when the JVM goes on (tests, embedding)
                sessions.close();
            } catch (IOException e) {
                java.util.logging.Logger.getLogger(LocalGateway.class.getName()).warning(
                        "the last sessions could not be synced to disk: " + e.getMessage());
            }
        }
    }

    static Path createPrivateDir(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            try {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(dir);
            }
        }
        return dir;
    }

    /** Reads a 32-byte secret, creating it (owner-only) on first use. */
    static byte[] secretFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.write(file, key);
            } catch (FileAlreadyExistsException e) {
                // another process created it first: use theirs
            } catch (UnsupportedOperationException e) {
                Files.write(file, key);
            }
        }
        byte[] key = Files.readAllBytes(file);
        if (key.length < 32) {
            throw new IOException(file + " must hold at least 32 bytes");
        }
        return key;
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Lets the server bind before the gateway (which needs the bound port for links) exists. */
    static final class GatewayHolder {
        private volatile Gateway gateway;

        void set(Gateway g) {
            this.gateway = g;
        }

        Gateway get() {
            return gateway;
        }
    }

    /**
     * The masking configuration file ({@code --masking FILE}):
     * {@code {"default_strategy":"REDACT","strategies":{"EMAIL":"HASH"},
     * "patterns":[{"name":"EMPLOYEE_ID","kind":"PII","regex":"EMP-[0-9]{6}"}]}}.
     */
    record MaskingSettings(DetectorSet detectors, MaskingConfig config) {
        static MaskingSettings load(Path file, byte[] hashKey) throws IOException {
            if (file == null) {
                return new MaskingSettings(DetectorSet.builtIns(), MaskingConfig.defaults(hashKey));
            }
            JsonNode root = Json.mapper().readTree(file.toFile());
            try {
                MaskingConfig defaults = MaskingConfig.defaults(hashKey);
                MaskingStrategy def = root.hasNonNull("default_strategy")
                        ? MaskingStrategy.valueOf(root.get("default_strategy").asText().toUpperCase(Locale.ROOT))
                        : defaults.defaultStrategy();
                Map<String, MaskingStrategy> per = new HashMap<>(defaults.perClass());
                Iterator<Map.Entry<String, JsonNode>> it = root.path("strategies").fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    per.put(e.getKey(), MaskingStrategy.valueOf(e.getValue().asText().toUpperCase(Locale.ROOT)));
                }
                List<DetectorSet.CustomPattern> custom = new ArrayList<>();
                for (JsonNode p : root.path("patterns")) {
                    custom.add(new DetectorSet.CustomPattern(p.path("name").asText(),
                            DataClass.Kind.valueOf(p.path("kind").asText("PII").toUpperCase(Locale.ROOT)),
                            p.path("regex").asText()));
                }
                return new MaskingSettings(DetectorSet.withCustom(custom), new MaskingConfig(def, per, hashKey));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--masking " + file + ": " + e.getMessage(), e);
            }
        }
    }
}
