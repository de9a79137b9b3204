package dev.policygate.local;

import dev.policygate.core.auth.ApiKeyRecord;
import dev.policygate.core.auth.ApiKeys;
import dev.policygate.core.auth.OidcConfig;
import dev.policygate.core.decision.CedarPolicyEngine;
import dev.policygate.core.decision.PolicyLoadException;
import dev.policygate.core.decision.PolicyTestRunner;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** The runnable jar: {@code serve}, {@code keys}, {@code policy}. */
@Command(name = "policygate", mixinStandardHelpOptions = true, version = "policygate 0.1.0",
        description = "Policy-as-code gateway for the Claude Messages API.",
        subcommands = {Main.Serve.class, Main.Keys.class, Main.Approvers.class, Main.Policy.class,
                Main.Sessions.class})
public final class Main implements Runnable {
    static final String DEFAULT_DATA_DIR = ".policygate";
    static final String DEFAULT_POLICIES = "cedar-policies";

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // a clear message, never a stack trace, for configuration mistakes
            cmd.getErr().println("error: " + e.getMessage());
            return 2;
        });
        int code = cli.execute(args);
        if (code != 0 || !isServe(args)) {
            System.exit(code);
        }
    }

    private static boolean isServe(String[] args) {
        return args.length > 0 && args[0].equals("serve");
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(name = "serve", description = "Run the gateway locally (binds 127.0.0.1 by default).")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--port", defaultValue = "8787", description = "Port (default ${DEFAULT-VALUE}; 0 = any free port).")
        int port;
        @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}).")
        String bind;
        @Option(names = "--data-dir", defaultValue = DEFAULT_DATA_DIR, description = "Sessions, keys, outbox (default ${DEFAULT-VALUE}).")
        Path dataDir;
        @Option(names = "--policies", defaultValue = DEFAULT_POLICIES, description = "Folder with policygate.cedarschema and *.cedar (default ${DEFAULT-VALUE}).")
        Path policies;
        @Option(names = "--upstream-url", description = "Anthropic-compatible base URL, e.g. https://api.anthropic.com. Default: the Anthropic API if ANTHROPIC_API_KEY is set, else the offline echo model.")
        URI upstreamUrl;
        @Option(names = "--approval-timeout", defaultValue = "PT1H", description = "How long a request waits for approval (ISO-8601, default ${DEFAULT-VALUE}).")
        Duration approvalTimeout;
        @Option(names = "--upstream-idle-timeout", defaultValue = "PT2M", description = "Fail a reply when the upstream sends nothing for this long (default ${DEFAULT-VALUE}).")
        Duration upstreamIdleTimeout;
        @Option(names = "--max-body-bytes", defaultValue = "6291456", description = "Largest request body (default ${DEFAULT-VALUE}).")
        int maxBodyBytes;
        @Option(names = "--max-messages", defaultValue = "100000", description = "Most entries in messages (default ${DEFAULT-VALUE}).")
        int maxMessages;
        @Option(names = "--max-tools", defaultValue = "512", description = "Most tools, skills or MCP servers per request (default ${DEFAULT-VALUE}).")
        int maxTools;
        @Option(names = "--max-sse-event-bytes", defaultValue = "1048576", description = "Largest SSE event relayed (default ${DEFAULT-VALUE}).")
        int maxSseEventBytes;
        @Option(names = "--max-reply-bytes", defaultValue = "33554432", description = "Largest non-streaming upstream reply (default ${DEFAULT-VALUE}).")
        int maxReplyBytes;
        @Option(names = "--stream-token-hold", defaultValue = "8192", description = "Longest token a streamed reply holds back whole (default ${DEFAULT-VALUE}).")
        int streamTokenHold;
        @Option(names = "--stream-key-hold", defaultValue = "65536", description = "Longest private-key block a streamed reply holds back (default ${DEFAULT-VALUE}).")
        int streamKeyHold;
        @Option(names = "--public-url", description = "Base URL used in links (default http://<bind>:<port>).")
        String publicUrl;
        @Option(names = "--oidc-issuer", description = "Accept JWTs from this OIDC issuer.")
        String oidcIssuer;
        @Option(names = "--oidc-audience", description = "Required JWT audience.")
        String oidcAudience;
        @Option(names = "--oidc-jwks-url", description = "JWKS URL (https:// or file:).")
        URI oidcJwks;
        @Option(names = "--groups-claim", defaultValue = "groups", description = "JWT claim with the groups (default ${DEFAULT-VALUE}).")
        String groupsClaim;
        @Option(names = "--masking", description = "Masking configuration file (strategies and custom patterns).")
        Path masking;
        @Option(names = "--fail-open", description = "Forward even when the write-ahead session record fails (default: refuse).")
        boolean failOpen;
        @Option(names = "--threads", defaultValue = "64", description = "Request threads (default ${DEFAULT-VALUE}).")
        int threads;
        @Option(names = "--no-demo-key", description = "Do not create a demo key when the data dir has none.")
        boolean noDemoKey;

        @Override
        public Integer call() throws Exception {
            PrintStream out = System.out;
            OidcConfig oidc = null;
            if (oidcIssuer != null || oidcJwks != null || oidcAudience != null) {
                if (oidcIssuer == null || oidcJwks == null || oidcAudience == null) {
                    throw new IllegalArgumentException("--oidc-issuer, --oidc-audience and --oidc-jwks-url go together");
                }
                oidc = new OidcConfig(oidcIssuer, oidcAudience, oidcJwks, groupsClaim, "email",
                        Duration.ofSeconds(60), 8192);
            }
            String key = System.getenv("ANTHROPIC_API_KEY");
            LocalGateway.Options o = new LocalGateway.Options(bind, port, dataDir, policies, upstreamUrl, key,
                    approvalTimeout, maxBodyBytes, publicUrl, oidc, masking, failOpen, threads, null, upstreamIdleTimeout,
                    new dev.policygate.core.gateway.GatewayLimits(maxMessages, maxTools, maxSseEventBytes, maxReplyBytes,
                            streamTokenHold, streamKeyHold));
            LocalGateway gw;
            try {
                gw = LocalGateway.start(o, out);
            } catch (PolicyLoadException e) {
                throw new IllegalArgumentException("the policies in " + policies + " are invalid; refusing to start:\n"
                        + e.getMessage());
            }
            if (!noDemoKey) {
                FileApiKeyStore keys = FileApiKeyStore.open(dataDir);
                if (keys.list().isEmpty()) {
                    String k = ApiKeys.newKey();
                    String hash = ApiKeys.hash(k);
                    keys.put(new ApiKeyRecord(ApiKeys.keyId(hash), hash, "demo", new LinkedHashSet<>(List.of("developers")),
                            "demo@example.com", Instant.now(), false));
                    out.println("[policygate] no gateway keys yet: created a demo key for principal 'demo' "
                            + "(group developers). It is shown once:");
                    out.println("[policygate]   " + k);
                }
            }
            if (gw.upstream() instanceof EchoUpstream) {
                out.println("[policygate] ********************************************************************");
                out.println("[policygate] * OFFLINE ECHO MODEL: no ANTHROPIC_API_KEY and no --upstream-url.   *");
                out.println("[policygate] * Replies are 'echo: <your prompt>', not Claude.                    *");
                out.println("[policygate] ********************************************************************");
            } else {
                out.println("[policygate] upstream: " + gw.upstream().describe());
            }
            out.println("[policygate] " + gw.policyCount() + " policies loaded from " + policies);
            out.println("[policygate] sessions, keys and outbox in " + dataDir.toAbsolutePath());
            out.println("[policygate] listening on " + gw.baseUrl() + "  (set ANTHROPIC_BASE_URL to this)");
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                gw.close();
                stop.countDown();
            }));
            stop.await();
            return 0;
        }
    }

    @Command(name = "keys", description = "Manage gateway API keys (stored as SHA-256 hashes).",
            subcommands = {Keys.Create.class, Keys.ListKeys.class, Keys.Revoke.class})
    static final class Keys implements Runnable {
        @Override
        public void run() {
            new CommandLine(this).usage(System.out);
        }

        @Command(name = "create", description = "Create a key and print it once.")
        static final class Create implements Callable<Integer> {
            @CommandLine.Mixin
            TableOptions where;
            @Option(names = "--principal", required = true, description = "Principal id (User::\"<id>\" in Cedar).")
            String principal;
            @Option(names = "--group", description = "A group (repeatable).")
            List<String> groups = List.of();
            @Option(names = "--email", description = "The principal's email.")
            String email;

            @Override
            public Integer call() throws Exception {
                String key = ApiKeys.newKey();
                String hash = ApiKeys.hash(key);
                ApiKeyRecord r = new ApiKeyRecord(ApiKeys.keyId(hash), hash, principal, new LinkedHashSet<>(groups),
                        email, Instant.now(), false);
                where.keys().put(r);
                System.out.println(key);
                System.err.println("created " + r.keyId() + " for " + principal + " " + groups
                        + " (the key is shown once; only its hash is stored)");
                return 0;
            }
        }

        @Command(name = "list", description = "List keys (ids, principals, groups; never the keys).")
        static final class ListKeys implements Callable<Integer> {
            @CommandLine.Mixin
            TableOptions where;

            @Override
            public Integer call() throws Exception {
                for (ApiKeyRecord r : where.keys().list()) {
                    System.out.println(r.keyId() + "  " + r.principal() + "  " + r.groups() + (r.revoked() ? "  REVOKED" : ""));
                }
                return 0;
            }
        }

        @Command(name = "revoke", description = "Revoke a key by its id.")
        static final class Revoke implements Callable<Integer> {
            @CommandLine.Mixin
            TableOptions where;
            @Option(names = "--key-id", required = true)
            String keyId;

            @Override
            public Integer call() throws Exception {
                boolean done = where.keys().revoke(keyId);
                System.out.println(done ? "revoked " + keyId : "no such key " + keyId);
                return done ? 0 : 1;
            }
        }
    }

    /** Where keys and approvers live: the local data dir, or the DynamoDB table when one is given. */
    static final class TableOptions {
        @Option(names = "--data-dir", defaultValue = DEFAULT_DATA_DIR, description = "Local data (default ${DEFAULT-VALUE}).")
        Path dataDir;
        @Option(names = "--table", defaultValue = "${env:POLICYGATE_TABLE}", description = "DynamoDB table (AWS mode; env POLICYGATE_TABLE).")
        String table;
        @Option(names = "--region", defaultValue = "${env:AWS_REGION}", description = "AWS region (env AWS_REGION).")
        String region;
        @Option(names = "--dynamodb-endpoint", hidden = true, description = "Emulator endpoint (tests).")
        URI dynamoEndpoint;

        boolean aws() {
            return table != null && !table.isBlank();
        }

        dev.policygate.core.auth.ApiKeyStore keys() throws java.io.IOException {
            if (!aws()) {
                LocalGateway.createPrivateDir(dataDir);
                return FileApiKeyStore.open(dataDir);
            }
            return new dev.policygate.aws.dynamodb.DynamoApiKeyStore(dynamo(), table);
        }

        software.amazon.awssdk.services.dynamodb.DynamoDbClient dynamo() {
            if (dynamoEndpoint != null) {
                return dev.policygate.aws.AwsClients.dynamo(dev.policygate.aws.AwsClients.Target.emulator(dynamoEndpoint));
            }
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException("--region (or AWS_REGION) is required with --table");
            }
            return dev.policygate.aws.AwsClients.dynamo(dev.policygate.aws.AwsClients.Target.aws(region));
        }
    }

    @Command(name = "approvers", description = "Manage who may approve held requests: group -> emails (local "
            + "approvers.json, or the DynamoDB approver directory with --table).",
            subcommands = {Approvers.Add.class, Approvers.Remove.class, Approvers.ListApprovers.class})
    static final class Approvers implements Runnable {
        @Override
        public void run() {
            new CommandLine(this).usage(System.out);
        }

        @Command(name = "add", description = "Add an approver to a group.")
        static final class Add implements Callable<Integer> {
            @CommandLine.Mixin
            TableOptions where;
            @Option(names = "--group", required = true, description = "The group an @approval annotation names.")
            String group;
            @Option(names = "--email", required = true, description = "The approver's email (links are sent there).")
            String email;

            @Override
            public Integer call() throws Exception {
                if (where.aws()) {
                    new dev.policygate.aws.dynamodb.DynamoApproverDirectory(where.dynamo(), where.table).add(group, email);
                } else {
                    LocalGateway.createPrivateDir(where.dataDir);
                    FileApproverDirectory.update(where.dataDir, group, email, true);
                }
                System.out.println("added " + email + " to " + group);
                return 0;
            }
        }

        @Command(name = "remove", description = "Remove an approver from a group.")
        static final class Remove implements Callable<Integer> {
            @CommandLine.Mixin
            TableOptions where;
            @Option(names = "--group", required = true)
            String group;
            @Option(names = "--email", required = true)
            String email;

            @Override
            public Integer call() throws Exception {
                if (where.aws()) {
                    new dev.policygate.aws.dynamodb.DynamoApproverDirectory(where.dynamo(), where.table)
                            .remove(group, email);
                } else {
                    FileApproverDirectory.update(where.dataDir, group, email, false);
                }
                System.out.println("removed " + email + " from " + group);
                return 0;
            }
        }

        @Command(name = "list", description = "List a group's approvers.")
        static final class ListApprovers implements Callable<Integer> {
            @CommandLine.Mixin
            TableOptions where;
            @Option(names = "--group", required = true)
            String group;

            @Override
            public Integer call() {
                dev.policygate.core.approval.ApproverDirectory d = where.aws()
                        ? new dev.policygate.aws.dynamodb.DynamoApproverDirectory(where.dynamo(), where.table)
                        : new FileApproverDirectory(where.dataDir);
                new java.util.TreeSet<>(d.approvers(group)).forEach(System.out::println);
                return 0;
            }
        }
    }

    /** Where sessions are read from: the local data dir, or DynamoDB + S3 when a table is given. */
    static final class StoreOptions {
        @Option(names = "--data-dir", defaultValue = DEFAULT_DATA_DIR, description = "Local sessions (default ${DEFAULT-VALUE}).")
        Path dataDir;
        @Option(names = "--table", defaultValue = "${env:POLICYGATE_TABLE}", description = "DynamoDB table (AWS mode; env POLICYGATE_TABLE).")
        String table;
        @Option(names = "--bucket", defaultValue = "${env:POLICYGATE_BUCKET}", description = "S3 recordings bucket (AWS mode; env POLICYGATE_BUCKET).")
        String bucket;
        @Option(names = "--region", defaultValue = "${env:AWS_REGION}", description = "AWS region (env AWS_REGION).")
        String region;
        @Option(names = "--dynamodb-endpoint", hidden = true, description = "Emulator endpoint (tests).")
        URI dynamoEndpoint;
        @Option(names = "--s3-endpoint", hidden = true, description = "Emulator endpoint (tests).")
        URI s3Endpoint;

        dev.policygate.core.session.SessionStore open() throws java.io.IOException {
            if (table == null || table.isBlank()) {
                return FileSessionStore.open(dataDir);
            }
            if (bucket == null || bucket.isBlank()) {
                throw new IllegalArgumentException("--bucket (or POLICYGATE_BUCKET) is required with --table");
            }
            dev.policygate.aws.AwsClients.Target dynamo = dynamoEndpoint != null
                    ? dev.policygate.aws.AwsClients.Target.emulator(dynamoEndpoint)
                    : dev.policygate.aws.AwsClients.Target.aws(requireRegion());
            dev.policygate.aws.AwsClients.Target s3 = s3Endpoint != null
                    ? dev.policygate.aws.AwsClients.Target.emulator(s3Endpoint)
                    : dev.policygate.aws.AwsClients.Target.aws(requireRegion());
            return new dev.policygate.core.session.SplitSessionStore(
                    new dev.policygate.aws.dynamodb.DynamoSessionIndex(dev.policygate.aws.AwsClients.dynamo(dynamo),
                            table, Duration.ofDays(400)),
                    new dev.policygate.aws.s3.S3SessionRecorder(dev.policygate.aws.AwsClients.s3(s3), bucket, null),
                    java.util.concurrent.ForkJoinPool.commonPool());
        }

        private String requireRegion() {
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException("--region (or AWS_REGION) is required with --table");
            }
            return region;
        }
    }

    @Command(name = "sessions", description = "Read recorded sessions (local data dir, or DynamoDB + S3 with --table).",
            subcommands = {Sessions.ListSessions.class, Sessions.Show.class})
    static final class Sessions implements Runnable {
        @Override
        public void run() {
            new CommandLine(this).usage(System.out);
        }

        @Command(name = "list", description = "List sessions, newest first.")
        static final class ListSessions implements Callable<Integer> {
            @CommandLine.Mixin
            StoreOptions store;
            @Option(names = "--principal")
            String principal;
            @Option(names = "--status")
            dev.policygate.core.session.SessionStatus status;
            @Option(names = "--decision", description = "ALLOW, DENY or APPROVAL")
            String decision;
            @Option(names = "--from")
            Instant from;
            @Option(names = "--to")
            Instant to;
            @Option(names = "--limit", defaultValue = "50")
            int limit;

            @Override
            public Integer call() throws Exception {
                var page = store.open().list(new dev.policygate.core.session.SessionQuery(principal,
                        status, decision == null ? null : decision.toUpperCase(java.util.Locale.ROOT), from, to, limit,
                        null), s -> true);
                for (var s : page.sessions()) {
                    System.out.println(s.id() + "  " + s.startedAt() + "  " + s.status() + "  "
                            + (s.decision() == null ? "-" : s.decision()) + "  " + s.httpStatus() + "  "
                            + (s.principal() == null ? "-" : s.principal()) + "  " + s.route() + "  "
                            + (s.model() == null ? "" : s.model()) + "  " + s.policyIds());
                }
                return 0;
            }
        }

        @Command(name = "show", description = "Print one session's recording (masked content only).")
        static final class Show implements Callable<Integer> {
            @CommandLine.Mixin
            StoreOptions store;
            @CommandLine.Parameters(index = "0", description = "The session id.")
            String id;

            @Override
            public Integer call() throws Exception {
                var rec = store.open().recording(id);
                if (rec.isEmpty()) {
                    System.err.println("no such session: " + id);
                    return 1;
                }
                System.out.println(dev.policygate.core.json.Json.mapper().writerWithDefaultPrettyPrinter()
                        .writeValueAsString(rec.get()));
                return 0;
            }
        }
    }

    @Command(name = "policy", description = "Validate and test Cedar policies.",
            subcommands = {Policy.Validate.class, Policy.Test.class, Policy.Replay.class})
    static final class Policy implements Runnable {
        @Override
        public void run() {
            new CommandLine(this).usage(System.out);
        }

        @Command(name = "validate", description = "Parse and validate policies against the schema.")
        static final class Validate implements Callable<Integer> {
            @Option(names = "--policies", defaultValue = DEFAULT_POLICIES)
            Path policies;

            @Override
            public Integer call() {
                try {
                    CedarPolicyEngine e = CedarPolicyEngine.load(policies);
                    System.out.println("valid: " + e.policyCount() + " policies in " + policies);
                    return 0;
                } catch (PolicyLoadException e) {
                    System.err.println("invalid: " + e.getMessage());
                    return 1;
                }
            }
        }

        @Command(name = "replay", description = "Re-decide recorded sessions with candidate policies and list "
                + "those whose outcome would change, and why.")
        static final class Replay implements Callable<Integer> {
            @Option(names = "--policies", required = true, description = "The candidate policy folder.")
            Path policies;
            @CommandLine.Mixin
            StoreOptions store;
            @Option(names = "--from", description = "ISO-8601 instant, e.g. 2026-11-18T00:00:00Z.")
            Instant from;
            @Option(names = "--to", description = "ISO-8601 instant (exclusive).")
            Instant to;
            @Option(names = "--max", defaultValue = "100000", description = "Most sessions to examine (default ${DEFAULT-VALUE}).")
            int max;

            @Override
            public Integer call() throws Exception {
                CedarPolicyEngine candidate = CedarPolicyEngine.load(policies);
                dev.policygate.core.replay.PolicyReplay.Report r = new dev.policygate.core.replay.PolicyReplay(
                        candidate, dev.policygate.core.detect.DetectorSet.builtIns())
                        .replay(store.open(), from, to, max);
                for (dev.policygate.core.replay.PolicyReplay.Change c : r.changes()) {
                    System.out.println(c.sessionId() + "  " + c.startedAt() + "  " + c.principal() + "  " + c.model()
                            + "  " + c.recorded() + " -> " + c.replayed() + "  " + c.policyIds()
                            + (c.messages().isEmpty() ? "" : "  " + String.join("; ", c.messages())));
                }
                System.out.println(r.changes().size() + " of " + r.examined() + " sessions would be decided differently"
                        + (r.skipped() > 0 ? " (" + r.skipped() + " without a replayable recording)" : ""));
                return 0;
            }
        }

        @Command(name = "test", description = "Run the request -> expected decision cases.")
        static final class Test implements Callable<Integer> {
            @Option(names = "--policies", defaultValue = DEFAULT_POLICIES)
            Path policies;
            @Option(names = "--tests", description = "Cases folder (default <policies>/tests).")
            Path tests;

            @Override
            public Integer call() {
                CedarPolicyEngine e = CedarPolicyEngine.load(policies);
                List<PolicyTestRunner.CaseResult> results = PolicyTestRunner.run(e,
                        tests != null ? tests : policies.resolve("tests"));
                int failed = 0;
                for (PolicyTestRunner.CaseResult r : results) {
                    if (!r.passed()) {
                        failed++;
                        System.out.println("FAIL " + r.file() + " :: " + r.name() + " :: " + r.detail());
                    }
                }
                System.out.println((results.size() - failed) + "/" + results.size() + " policy cases passed");
                return failed == 0 ? 0 : 1;
            }
        }
    }
}
