package dev.policygate.aws.lambda;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The approval workflow's settings, from the environment. Each function needs only some of
 * them ({@link Role}); a missing or invalid one stops the function at start-up with a message
 * naming the variable.
 *
 * @param stateMachineArn    {@value #STATE_MACHINE_ARN}: the approval state machine (gateway); null
 *                           on the gateway refuses requests that need approval (403)
 * @param timeout            {@value #TIMEOUT_SECONDS}: how long approvers have (default 1 hour,
 *                           60 s to 7 days); the gateway passes it to the state machine, the
 *                           notifier puts it in the links
 * @param linkKeySecretArn   {@value #LINK_KEY_SECRET_ARN}: the secret that signs links and seals
 *                           held requests (at least 32 printable characters), read on first use
 * @param sesFrom            {@value #SES_FROM}: the verified SES sender (notifier)
 * @param sesConfigurationSet {@value #SES_CONFIGURATION_SET}: optional SES configuration set
 */
public record ApprovalSettings(String stateMachineArn, Duration timeout, String linkKeySecretArn, String sesFrom,
                               String sesConfigurationSet) {
    public static final String STATE_MACHINE_ARN = "POLICYGATE_STATE_MACHINE_ARN";
    public static final String TIMEOUT_SECONDS = "POLICYGATE_APPROVAL_TIMEOUT_SECONDS";
    public static final String LINK_KEY_SECRET_ARN = "POLICYGATE_LINK_KEY_SECRET_ARN";
    public static final String SES_FROM = "POLICYGATE_SES_FROM";
    public static final String SES_CONFIGURATION_SET = "POLICYGATE_SES_CONFIGURATION_SET";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);
    public static final Duration MIN_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration MAX_TIMEOUT = Duration.ofDays(7);

    private static final Pattern STATE_MACHINE = Pattern.compile(
            "arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}");
    private static final Pattern SECRET_ARN = Pattern.compile(
            "arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}");
    private static final Pattern EMAIL = Pattern.compile("([^<>@\\s]+ )*<?[^<>@\\s]+@[^<>@\\s]+\\.[^<>@\\s]+>?");
    private static final Pattern CONFIG_SET = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /** Which function reads the settings: each requires what it uses. */
    public enum Role { GATEWAY, NOTIFIER, CALLBACK, FORWARD }

    public ApprovalSettings {
        Objects.requireNonNull(timeout, "timeout");
        check(stateMachineArn == null || STATE_MACHINE.matcher(stateMachineArn).matches(), STATE_MACHINE_ARN,
                "must be a Step Functions state machine ARN");
        check(timeout.compareTo(MIN_TIMEOUT) >= 0 && timeout.compareTo(MAX_TIMEOUT) <= 0, TIMEOUT_SECONDS,
                "must be " + MIN_TIMEOUT.toSeconds() + ".." + MAX_TIMEOUT.toSeconds() + " seconds");
        check(linkKeySecretArn == null || SECRET_ARN.matcher(linkKeySecretArn).matches(), LINK_KEY_SECRET_ARN,
                "must be a Secrets Manager secret ARN");
        check(sesFrom == null || (sesFrom.length() <= 320 && EMAIL.matcher(sesFrom).matches()), SES_FROM,
                "must be an email address (optionally \"Name <address>\")");
        check(sesConfigurationSet == null || CONFIG_SET.matcher(sesConfigurationSet).matches(), SES_CONFIGURATION_SET,
                "must be an SES configuration set name");
    }

    /**
     * @throws IllegalArgumentException naming the first variable that is missing or invalid for the role
     */
    public static ApprovalSettings fromEnvironment(Map<String, String> env, Role role) {
        String timeoutText = optional(env, TIMEOUT_SECONDS);
        Duration timeout = DEFAULT_TIMEOUT;
        if (timeoutText != null) {
            try {
                timeout = Duration.ofSeconds(Long.parseLong(timeoutText));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(TIMEOUT_SECONDS + " must be a whole number of seconds");
            }
        }
        ApprovalSettings s = new ApprovalSettings(optional(env, STATE_MACHINE_ARN), timeout,
                optional(env, LINK_KEY_SECRET_ARN), optional(env, SES_FROM), optional(env, SES_CONFIGURATION_SET));
        switch (role) {
            case GATEWAY -> check(s.stateMachineArn == null || s.linkKeySecretArn != null, LINK_KEY_SECRET_ARN,
                    "is required with " + STATE_MACHINE_ARN + " (it seals held requests)");
            case NOTIFIER -> {
                check(s.linkKeySecretArn != null, LINK_KEY_SECRET_ARN, "is required (it signs the links)");
                check(s.sesFrom != null, SES_FROM, "is required (the sender of approval emails)");
            }
            case CALLBACK, FORWARD -> check(s.linkKeySecretArn != null, LINK_KEY_SECRET_ARN, "is required");
            default -> throw new IllegalStateException(role.name());
        }
        return s;
    }

    private static String optional(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static void check(boolean ok, String name, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(name + " " + problem);
        }
    }

    @Override
    public String toString() {
        return "ApprovalSettings[stateMachine=" + stateMachineArn + ", timeout=" + timeout + ", sesFrom="
                + (sesFrom == null ? null : sesFrom.toLowerCase(Locale.ROOT)) + "]";
    }
}
