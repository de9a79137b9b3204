package dev.policygate.aws.lambda;

import dev.policygate.core.auth.OidcConfig;
import dev.policygate.core.decision.CedarPolicyEngine;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The configuration of the gateway's Lambda function: every environment variable it reads, read
 * once during INIT, typed and validated. A bad or missing value fails the start with an
 * {@link IllegalArgumentException} whose message names the variable; nothing else in the function
 * reads the environment.
 *
 * <p>Holds no secret: the Anthropic API key stays in Secrets Manager and only its ARN is here.
 * Optional settings that are unset are null (an empty variable counts as unset).
 *
 * @param region                   {@value #AWS_REGION}, set by Lambda
 * @param table                    {@value #TABLE}: the DynamoDB table (session index and key hashes)
 * @param bucket                   {@value #BUCKET}: the S3 bucket of the recordings
 * @param kmsKeyId                 {@value #KMS_KEY_ID}: the KMS key for SSE-KMS on recordings; null
 *                                 leaves encryption to the bucket default
 * @param upstreamUrl              {@value #UPSTREAM_URL}: base URL of the Messages API
 * @param anthropicApiKeySecretArn {@value #API_KEY_SECRET_ARN}: the secret holding the Anthropic key
 *                                 (required where Claude is called through the Anthropic API)
 * @param oidc                     {@value #OIDC_ISSUER}, {@value #OIDC_AUDIENCE}, {@value #OIDC_JWKS_URL},
 *                                 {@value #OIDC_GROUPS_CLAIM}: null when JWTs are not accepted
 * @param publicUrl                {@value #PUBLIC_URL}: base of links the gateway hands out, without a
 *                                 trailing slash; null makes them relative ({@code /v1/sessions/...})
 * @param failOpen                 {@value #FAIL_OPEN}: forward even if the write-ahead record fails
 * @param retentionDays            {@value #RETENTION_DAYS}: days before an index entry expires (TTL)
 * @param maxBodyBytes             {@value #MAX_BODY_BYTES}: larger request bodies get 413
 * @param policiesDir              {@value #POLICIES_DIR}: a policy folder replacing the policies
 *                                 bundled in the jar; null uses the bundled ones
 * @param upstream                 {@value #UPSTREAM}: {@code anthropic} (default) or {@code bedrock}
 * @param bedrockProfilePrefix     {@value #BEDROCK_PROFILE_PREFIX}: the cross-region inference
 *                                 profile prefix for Bedrock model ids ({@code us.} by default),
 *                                 or {@code none} for in-region ids
 */
public record AwsSettings(String region, String table, String bucket, String kmsKeyId, URI upstreamUrl,
                          String anthropicApiKeySecretArn, OidcConfig oidc, String publicUrl, boolean failOpen,
                          int retentionDays, int maxBodyBytes, Path policiesDir, Upstream upstream,
                          String bedrockProfilePrefix) {
    /** Where Claude is: the Anthropic API (a key in Secrets Manager) or Amazon Bedrock (IAM, no key). */
    public enum Upstream { ANTHROPIC, BEDROCK }

    public static final String UPSTREAM = "POLICYGATE_UPSTREAM";
    public static final String BEDROCK_PROFILE_PREFIX = "POLICYGATE_BEDROCK_PROFILE_PREFIX";
    public static final String AWS_REGION = "AWS_REGION";
    public static final String TABLE = "POLICYGATE_TABLE";
    public static final String BUCKET = "POLICYGATE_BUCKET";
    public static final String KMS_KEY_ID = "POLICYGATE_KMS_KEY_ID";
    public static final String UPSTREAM_URL = "POLICYGATE_UPSTREAM_URL";
    public static final String API_KEY_SECRET_ARN = "ANTHROPIC_API_KEY_SECRET_ARN";
    public static final String OIDC_ISSUER = "POLICYGATE_OIDC_ISSUER";
    public static final String OIDC_AUDIENCE = "POLICYGATE_OIDC_AUDIENCE";
    public static final String OIDC_JWKS_URL = "POLICYGATE_OIDC_JWKS_URL";
    public static final String OIDC_GROUPS_CLAIM = "POLICYGATE_OIDC_GROUPS_CLAIM";
    public static final String PUBLIC_URL = "POLICYGATE_PUBLIC_URL";
    public static final String FAIL_OPEN = "POLICYGATE_FAIL_OPEN";
    public static final String RETENTION_DAYS = "POLICYGATE_RETENTION_DAYS";
    public static final String MAX_BODY_BYTES = "POLICYGATE_MAX_BODY_BYTES";
    public static final String POLICIES_DIR = "POLICYGATE_POLICIES_DIR";

    public static final URI DEFAULT_UPSTREAM_URL = URI.create("https://api.anthropic.com");
    public static final int DEFAULT_RETENTION_DAYS = 400;
    public static final int MAX_RETENTION_DAYS = 3650;
    /** Lambda's limit for a synchronous invocation payload: a larger body cannot arrive anyway. */
    public static final int DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
    public static final int MIN_BODY_BYTES = 1024;

    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]{1,2}");
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z0-9_.-]{3,255}");
    private static final Pattern BUCKET_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern SECRET_ARN = Pattern.compile(
            "arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}");
    private static final Pattern KMS_KEY = Pattern.compile("[A-Za-z0-9:/_.-]{1,2048}");

    public AwsSettings {
        require(REGION.matcher(text(region)).matches(), AWS_REGION, "must be an AWS region such as eu-west-1");
        require(TABLE_NAME.matcher(text(table)).matches(), TABLE,
                "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)");
        require(BUCKET_NAME.matcher(text(bucket)).matches() && !text(bucket).contains(".."), BUCKET,
                "must be an S3 bucket name (3-63 of a-z 0-9 . -)");
        require(kmsKeyId == null || KMS_KEY.matcher(kmsKeyId).matches(), KMS_KEY_ID,
                "must be a KMS key id, ARN or alias");
        requireHttpUrl(upstreamUrl, UPSTREAM_URL);
        require(anthropicApiKeySecretArn == null || SECRET_ARN.matcher(anthropicApiKeySecretArn).matches(),
                API_KEY_SECRET_ARN,
                "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)");
        Objects.requireNonNull(upstream, "upstream");
        require(bedrockProfilePrefix == null || bedrockProfilePrefix.matches("none|[a-z]{2,8}\\."),
                BEDROCK_PROFILE_PREFIX, "must be an inference profile prefix such as us. or eu., or none");
        if (publicUrl != null) {
            requireHttpUrl(parseUri(publicUrl, PUBLIC_URL), PUBLIC_URL);
            publicUrl = publicUrl.replaceAll("/+$", "");
        }
        require(retentionDays >= 1 && retentionDays <= MAX_RETENTION_DAYS, RETENTION_DAYS,
                "must be 1.." + MAX_RETENTION_DAYS + " days");
        require(maxBodyBytes >= MIN_BODY_BYTES && maxBodyBytes <= DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES,
                "must be " + MIN_BODY_BYTES + ".." + DEFAULT_MAX_BODY_BYTES + " bytes (Lambda's payload limit)");
        require(policiesDir == null || Files.isRegularFile(policiesDir.resolve(CedarPolicyEngine.SCHEMA_FILE)),
                POLICIES_DIR, "must be a folder holding " + CedarPolicyEngine.SCHEMA_FILE + " and *.cedar files");
    }

    /**
     * Reads the settings from an environment map ({@code System.getenv()} in Lambda; a plain map
     * in tests).
     *
     * @throws IllegalArgumentException naming the first variable that is missing or invalid
     */
    public static AwsSettings fromEnvironment(Map<String, String> env) {
        Objects.requireNonNull(env, "env");
        String upstream = optional(env, UPSTREAM_URL);
        String policies = optional(env, POLICIES_DIR);
        return new AwsSettings(
                required(env, AWS_REGION),
                required(env, TABLE),
                required(env, BUCKET),
                optional(env, KMS_KEY_ID),
                upstream == null ? DEFAULT_UPSTREAM_URL : parseUri(upstream, UPSTREAM_URL),
                optional(env, API_KEY_SECRET_ARN),
                oidc(env),
                optional(env, PUBLIC_URL),
                bool(env, FAIL_OPEN, false),
                integer(env, RETENTION_DAYS, DEFAULT_RETENTION_DAYS),
                integer(env, MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
                policies == null ? null : path(policies, POLICIES_DIR),
                upstream(env), optional(env, BEDROCK_PROFILE_PREFIX));
    }

    private static Upstream upstream(Map<String, String> env) {
        String v = optional(env, UPSTREAM);
        if (v == null) {
            return Upstream.ANTHROPIC;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "anthropic" -> Upstream.ANTHROPIC;
            case "bedrock" -> Upstream.BEDROCK;
            default -> throw invalid(UPSTREAM, "must be anthropic or bedrock");
        };
    }

    /**
     * The Anthropic key's secret, for the functions that call Claude through the Anthropic API.
     *
     * @throws IllegalArgumentException naming the variable when it is not set
     */
    public String requireAnthropicApiKeySecretArn() {
        require(anthropicApiKeySecretArn != null, API_KEY_SECRET_ARN, "is required (POLICYGATE_UPSTREAM=anthropic)");
        return anthropicApiKeySecretArn;
    }

    /** Issuer, audience and JWKS URL come together; the groups claim only with them. */
    private static OidcConfig oidc(Map<String, String> env) {
        String issuer = optional(env, OIDC_ISSUER);
        String audience = optional(env, OIDC_AUDIENCE);
        String jwks = optional(env, OIDC_JWKS_URL);
        String groups = optional(env, OIDC_GROUPS_CLAIM);
        if (issuer == null && audience == null && jwks == null) {
            require(groups == null, OIDC_GROUPS_CLAIM, "is set, but " + OIDC_ISSUER + ", " + OIDC_AUDIENCE
                    + " and " + OIDC_JWKS_URL + " are not");
            return null;
        }
        require(issuer != null, OIDC_ISSUER, "is required when any POLICYGATE_OIDC_* variable is set");
        require(audience != null, OIDC_AUDIENCE, "is required when any POLICYGATE_OIDC_* variable is set");
        require(jwks != null, OIDC_JWKS_URL, "is required when any POLICYGATE_OIDC_* variable is set");
        URI jwksUri = parseUri(jwks, OIDC_JWKS_URL);
        try {
            return new OidcConfig(issuer, audience, jwksUri, groups, null, null, 0);
        } catch (IllegalArgumentException e) {
            // OidcConfig names its own fields; translate to the variable that carried the value
            String message = e.getMessage() == null ? "is invalid" : e.getMessage();
            String variable = message.startsWith("issuer") ? OIDC_ISSUER
                    : message.startsWith("audience") ? OIDC_AUDIENCE
                    : message.startsWith("groupsClaim") ? OIDC_GROUPS_CLAIM
                    : OIDC_JWKS_URL;
            throw new IllegalArgumentException(variable + ": " + message, e);
        }
    }

    private static String required(Map<String, String> env, String name) {
        String v = optional(env, name);
        require(v != null, name, "is required");
        return v;
    }

    private static String optional(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static boolean bool(Map<String, String> env, String name, boolean fallback) {
        String v = optional(env, name);
        if (v == null) {
            return fallback;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(name, "must be true or false");
        };
    }

    private static int integer(Map<String, String> env, String name, int fallback) {
        String v = optional(env, name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw invalid(name, "must be a whole number");
        }
    }

    private static URI parseUri(String value, String name) {
        try {
            return new URI(value);
        } catch (URISyntaxException e) {
            throw invalid(name, "is not a valid URL");
        }
    }

    private static Path path(String value, String name) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw invalid(name, "is not a valid path");
        }
    }

    /** https, or http to a loopback address (a mock in tests); no credentials, query or fragment. */
    private static void requireHttpUrl(URI uri, String name) {
        require(uri != null && uri.isAbsolute() && uri.getHost() != null && !uri.getHost().isBlank(), name,
                "must be an absolute https URL");
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        require(scheme.equals("https") || (scheme.equals("http") && isLoopback(uri.getHost())), name,
                "must use https (http is allowed for loopback addresses only)");
        require(uri.getRawUserInfo() == null && uri.getRawQuery() == null && uri.getRawFragment() == null, name,
                "must not carry credentials, a query or a fragment");
    }

    private static boolean isLoopback(String host) {
        return dev.policygate.core.auth.OidcConfig.isLoopback(host);
    }


    private static String text(String s) {
        return s == null ? "" : s;
    }

    private static void require(boolean ok, String name, String problem) {
        if (!ok) {
            throw invalid(name, problem);
        }
    }

    private static IllegalArgumentException invalid(String name, String problem) {
        return new IllegalArgumentException(name + " " + problem);
    }
}
