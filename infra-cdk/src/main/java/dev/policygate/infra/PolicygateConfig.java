package dev.policygate.infra;

import software.constructs.Node;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Every deploy-time choice of the stack, read once from CDK context ({@code cdk.json} or
 * {@code -c key=value}) and validated: a bad value stops the synth with a message that names the
 * context key. Optional values that are unset are null.
 *
 * @param sesFrom                   {@value #SES_FROM}: the From address of approval emails
 * @param sesIdentity               {@value #SES_IDENTITY}: the SES identity that sends them, an email
 *                                  address or a domain; defaults to {@code sesFrom}
 * @param sesConfigurationSet       {@value #SES_CONFIGURATION_SET}: optional SES configuration set name
 * @param oidcIssuer                {@value #OIDC_ISSUER}: accept JWTs from this issuer (with audience
 *                                  and JWKS URL); ignored when Cognito is on
 * @param oidcAudience              {@value #OIDC_AUDIENCE}
 * @param oidcJwksUrl               {@value #OIDC_JWKS_URL}; defaults to
 *                                  {@code <issuer>/.well-known/jwks.json}
 * @param oidcGroupsClaim           {@value #OIDC_GROUPS_CLAIM}; defaults to {@code groups}
 * @param cognitoSaml               {@value #COGNITO_SAML}: create a Cognito user pool federated with a
 *                                  SAML identity provider, and accept its ID tokens
 * @param samlMetadataUrl           {@value #SAML_METADATA_URL}: the IdP's metadata document
 * @param samlGroupsAttribute       {@value #SAML_GROUPS_ATTRIBUTE}: the SAML attribute carrying groups
 * @param cognitoDomainPrefix       {@value #COGNITO_DOMAIN_PREFIX}: hosted sign-in domain prefix
 * @param cognitoCallbackUrls       {@value #COGNITO_CALLBACK_URLS}: comma-separated OAuth callback URLs
 * @param bedrock                   {@value #UPSTREAM} = {@code bedrock}: Claude through Amazon Bedrock
 *                                  with IAM instead of an Anthropic key
 * @param bedrockProfilePrefix      {@value #BEDROCK_PROFILE_PREFIX}: inference profile prefix such as
 *                                  {@code us.}, {@code eu.} or {@code global.}; empty for in-region models
 * @param upstreamUrl               {@value #UPSTREAM_URL}: the Anthropic API base URL
 * @param waf                       {@value #WAF}: attach an AWS WAF web ACL to the API stage
 * @param wafRateLimit              {@value #WAF_RATE_LIMIT}: requests per 5 minutes per source IP
 * @param objectLock                {@value #OBJECT_LOCK}: S3 Object Lock on the recordings bucket
 * @param objectLockDays            {@value #OBJECT_LOCK_DAYS}: default retention (governance mode)
 * @param integrationTimeoutSeconds {@value #INTEGRATION_TIMEOUT}: API Gateway integration timeout;
 *                                  above 29 needs a raised account quota first
 * @param approvalTimeoutSeconds    {@value #APPROVAL_TIMEOUT}: how long an approval may wait
 * @param throttleRate              {@value #THROTTLE_RATE}: stage steady-state requests per second
 * @param throttleBurst             {@value #THROTTLE_BURST}: stage burst
 * @param retentionDays             {@value #RETENTION_DAYS}: session index TTL
 * @param maxBodyBytes              {@value #MAX_BODY_BYTES}: larger request bodies get 413
 * @param failOpen                  {@value #FAIL_OPEN}: forward even if the write-ahead record fails
 * @param alarmEmail                {@value #ALARM_EMAIL}: optional address subscribed to the alarms
 * @param publicUrl                 {@value #PUBLIC_URL}: optional custom domain base URL for links;
 *                                  defaults to the API's own URL
 */
public record PolicygateConfig(String sesFrom, String sesIdentity, String sesConfigurationSet,
                               String oidcIssuer, String oidcAudience, String oidcJwksUrl, String oidcGroupsClaim,
                               boolean cognitoSaml, String samlMetadataUrl, String samlGroupsAttribute,
                               String cognitoDomainPrefix, List<String> cognitoCallbackUrls,
                               boolean bedrock, String bedrockProfilePrefix, String upstreamUrl,
                               boolean waf, int wafRateLimit, boolean objectLock, int objectLockDays,
                               int integrationTimeoutSeconds, int approvalTimeoutSeconds,
                               int throttleRate, int throttleBurst, int retentionDays, int maxBodyBytes,
                               boolean failOpen, String alarmEmail, String publicUrl) {
    public static final String SES_FROM = "sesFrom";
    public static final String SES_IDENTITY = "sesIdentity";
    public static final String SES_CONFIGURATION_SET = "sesConfigurationSet";
    public static final String OIDC_ISSUER = "oidcIssuer";
    public static final String OIDC_AUDIENCE = "oidcAudience";
    public static final String OIDC_JWKS_URL = "oidcJwksUrl";
    public static final String OIDC_GROUPS_CLAIM = "oidcGroupsClaim";
    public static final String COGNITO_SAML = "cognitoSaml";
    public static final String SAML_METADATA_URL = "samlMetadataUrl";
    public static final String SAML_GROUPS_ATTRIBUTE = "samlGroupsAttribute";
    public static final String COGNITO_DOMAIN_PREFIX = "cognitoDomainPrefix";
    public static final String COGNITO_CALLBACK_URLS = "cognitoCallbackUrls";
    public static final String UPSTREAM = "upstream";
    public static final String BEDROCK_PROFILE_PREFIX = "bedrockProfilePrefix";
    public static final String UPSTREAM_URL = "upstreamUrl";
    public static final String WAF = "waf";
    public static final String WAF_RATE_LIMIT = "wafRateLimit";
    public static final String OBJECT_LOCK = "objectLock";
    public static final String OBJECT_LOCK_DAYS = "objectLockDays";
    public static final String INTEGRATION_TIMEOUT = "integrationTimeoutSeconds";
    public static final String APPROVAL_TIMEOUT = "approvalTimeoutSeconds";
    public static final String THROTTLE_RATE = "throttleRate";
    public static final String THROTTLE_BURST = "throttleBurst";
    public static final String RETENTION_DAYS = "retentionDays";
    public static final String MAX_BODY_BYTES = "maxBodyBytes";
    public static final String FAIL_OPEN = "failOpen";
    public static final String ALARM_EMAIL = "alarmEmail";
    public static final String PUBLIC_URL = "publicUrl";

    /** The sender used when none is given: synth works, and the stack warns that mail will not arrive. */
    public static final String PLACEHOLDER_SENDER = "approvals@example.com";
    public static final int DEFAULT_INTEGRATION_TIMEOUT = 29;
    public static final int DEFAULT_APPROVAL_TIMEOUT = 3600;
    /** Step Functions' task timeout bound is a year; a week is the longest wait that makes sense here. */
    public static final int MAX_APPROVAL_TIMEOUT = 7 * 24 * 3600;
    public static final int LAMBDA_MAX_PAYLOAD = 6 * 1024 * 1024;

    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}");
    private static final Pattern DOMAIN = Pattern.compile("([A-Za-z0-9-]+\\.)+[A-Za-z]{2,}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern DOMAIN_PREFIX = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");

    public PolicygateConfig {
        require(sesFrom != null && EMAIL.matcher(sesFrom).matches(), SES_FROM, "must be an email address");
        if (sesIdentity == null) {
            sesIdentity = sesFrom;
        }
        require(EMAIL.matcher(sesIdentity).matches() || DOMAIN.matcher(sesIdentity).matches(), SES_IDENTITY,
                "must be an email address or a domain");
        require(sesIdentity.contains("@") ? sesIdentity.equalsIgnoreCase(sesFrom)
                : sesFrom.toLowerCase(Locale.ROOT).endsWith("@" + sesIdentity.toLowerCase(Locale.ROOT)), SES_IDENTITY,
                "must be " + SES_FROM + " itself or its domain");
        require(sesConfigurationSet == null || NAME.matcher(sesConfigurationSet).matches(), SES_CONFIGURATION_SET,
                "must be an SES configuration set name");
        if (cognitoSaml) {
            require(samlMetadataUrl != null && isHttps(samlMetadataUrl), SAML_METADATA_URL,
                    "is required (an https URL) when " + COGNITO_SAML + " is true");
            require(cognitoDomainPrefix != null && DOMAIN_PREFIX.matcher(cognitoDomainPrefix).matches(),
                    COGNITO_DOMAIN_PREFIX, "is required (lower-case letters, digits, hyphens) when "
                            + COGNITO_SAML + " is true");
            require(!cognitoCallbackUrls.isEmpty() && cognitoCallbackUrls.stream().allMatch(PolicygateConfig::isHttps),
                    COGNITO_CALLBACK_URLS, "is required (comma-separated https URLs) when " + COGNITO_SAML + " is true");
            require(oidcIssuer == null && oidcAudience == null, OIDC_ISSUER,
                    "and " + OIDC_AUDIENCE + " come from the Cognito user pool when " + COGNITO_SAML + " is true");
        } else if (oidcIssuer != null || oidcAudience != null || oidcJwksUrl != null) {
            require(oidcIssuer != null && isHttps(oidcIssuer), OIDC_ISSUER, "must be an https URL");
            require(oidcAudience != null, OIDC_AUDIENCE, "is required with " + OIDC_ISSUER);
            if (oidcJwksUrl == null) {
                oidcJwksUrl = oidcIssuer.replaceAll("/+$", "") + "/.well-known/jwks.json";
            }
            require(isHttps(oidcJwksUrl), OIDC_JWKS_URL, "must be an https URL");
        }
        if (oidcGroupsClaim == null) {
            oidcGroupsClaim = cognitoSaml ? "custom:groups" : "groups";
        }
        if (samlGroupsAttribute == null) {
            samlGroupsAttribute = "http://schemas.xmlsoap.org/claims/Group";
        }
        cognitoCallbackUrls = List.copyOf(cognitoCallbackUrls);
        require(bedrockProfilePrefix.isEmpty() || bedrockProfilePrefix.matches("[a-z]{2,6}\\."), BEDROCK_PROFILE_PREFIX,
                "must be empty or an inference profile prefix such as us. eu. apac. global.");
        require(isHttps(upstreamUrl), UPSTREAM_URL, "must be an https URL");
        require(wafRateLimit >= 10 && wafRateLimit <= 2_000_000_000, WAF_RATE_LIMIT, "must be 10..2000000000");
        require(objectLockDays >= 1 && objectLockDays <= 36500, OBJECT_LOCK_DAYS, "must be 1..36500");
        // 29 s is the default quota; regional REST APIs can be raised beyond it by a quota request
        require(integrationTimeoutSeconds >= 1 && integrationTimeoutSeconds <= 900, INTEGRATION_TIMEOUT,
                "must be 1..900 seconds (above 29 only after raising the account quota)");
        require(approvalTimeoutSeconds >= 60 && approvalTimeoutSeconds <= MAX_APPROVAL_TIMEOUT, APPROVAL_TIMEOUT,
                "must be 60.." + MAX_APPROVAL_TIMEOUT + " seconds");
        require(throttleRate >= 1 && throttleBurst >= 1, THROTTLE_RATE, "and " + THROTTLE_BURST + " must be positive");
        require(retentionDays >= 1 && retentionDays <= 3650, RETENTION_DAYS, "must be 1..3650");
        require(maxBodyBytes >= 1024 && maxBodyBytes <= LAMBDA_MAX_PAYLOAD, MAX_BODY_BYTES,
                "must be 1024.." + LAMBDA_MAX_PAYLOAD + " (Lambda's payload limit)");
        require(alarmEmail == null || EMAIL.matcher(alarmEmail).matches(), ALARM_EMAIL, "must be an email address");
        if (publicUrl != null) {
            require(isHttps(publicUrl), PUBLIC_URL, "must be an https URL");
            publicUrl = publicUrl.replaceAll("/+$", "");
        }
    }

    /** Reads the context of {@code node} (the app's or a stack's). */
    public static PolicygateConfig fromContext(Node node) {
        String upstream = text(node, UPSTREAM);
        require(upstream == null || upstream.equals("anthropic") || upstream.equals("bedrock"), UPSTREAM,
                "must be anthropic or bedrock");
        String callbacks = text(node, COGNITO_CALLBACK_URLS);
        return new PolicygateConfig(
                orElse(text(node, SES_FROM), PLACEHOLDER_SENDER),
                text(node, SES_IDENTITY),
                text(node, SES_CONFIGURATION_SET),
                text(node, OIDC_ISSUER),
                text(node, OIDC_AUDIENCE),
                text(node, OIDC_JWKS_URL),
                text(node, OIDC_GROUPS_CLAIM),
                bool(node, COGNITO_SAML),
                text(node, SAML_METADATA_URL),
                text(node, SAML_GROUPS_ATTRIBUTE),
                text(node, COGNITO_DOMAIN_PREFIX),
                callbacks == null ? List.of() : List.of(callbacks.split("\\s*,\\s*")),
                "bedrock".equals(upstream),
                profilePrefix(node),
                orElse(text(node, UPSTREAM_URL), "https://api.anthropic.com"),
                bool(node, WAF),
                integer(node, WAF_RATE_LIMIT, 2000),
                bool(node, OBJECT_LOCK),
                integer(node, OBJECT_LOCK_DAYS, 365),
                integer(node, INTEGRATION_TIMEOUT, DEFAULT_INTEGRATION_TIMEOUT),
                integer(node, APPROVAL_TIMEOUT, DEFAULT_APPROVAL_TIMEOUT),
                integer(node, THROTTLE_RATE, 50),
                integer(node, THROTTLE_BURST, 100),
                integer(node, RETENTION_DAYS, 400),
                integer(node, MAX_BODY_BYTES, LAMBDA_MAX_PAYLOAD),
                bool(node, FAIL_OPEN),
                text(node, ALARM_EMAIL),
                text(node, PUBLIC_URL));
    }

    /** Days after which a sealed held request can no longer be needed: the approval timeout, rounded up, plus one. */
    public int heldRequestExpiryDays() {
        return (approvalTimeoutSeconds + 86_399) / 86_400 + 1;
    }

    private static String text(Node node, String key) {
        Object v = node.tryGetContext(key);
        if (v == null) {
            return null;
        }
        String s = v.toString().trim();
        // "none" lets a command line clear a value that cdk.json sets
        return s.isEmpty() || s.equalsIgnoreCase("none") ? null : s;
    }

    /** {@code us.} unless set; {@code none} (or empty) means in-region model ids, no prefix. */
    private static String profilePrefix(Node node) {
        Object v = node.tryGetContext(BEDROCK_PROFILE_PREFIX);
        if (v == null) {
            return "us.";
        }
        String s = v.toString().trim();
        return s.equalsIgnoreCase("none") ? "" : s;
    }

    private static String orElse(String v, String fallback) {
        return v == null ? fallback : v;
    }

    private static boolean bool(Node node, String key) {
        String v = text(node, key);
        if (v == null) {
            return false;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, "must be true or false");
        };
    }

    private static int integer(Node node, String key, int fallback) {
        String v = text(node, key);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.endsWith(".0") ? v.substring(0, v.length() - 2) : v);
        } catch (NumberFormatException e) {
            throw invalid(key, "must be a whole number");
        }
    }

    private static boolean isHttps(String url) {
        try {
            URI u = new URI(url);
            return "https".equals(u.getScheme()) && u.getHost() != null && u.getRawUserInfo() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw invalid(key, problem);
        }
    }

    private static IllegalArgumentException invalid(String key, String problem) {
        return new IllegalArgumentException("context " + key + " " + problem);
    }
}
