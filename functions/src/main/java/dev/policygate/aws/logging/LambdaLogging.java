package dev.policygate.aws.logging;

import com.amazonaws.services.lambda.runtime.Context;
import org.slf4j.MDC;
import software.amazon.lambda.powertools.logging.PowertoolsLogging;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * Structured logging for the Lambda functions: one JSON object per line on stdout (Powertools for
 * AWS Lambda's layout: level, message, timestamp, service, function name and version, cold start,
 * X-Ray trace id), with {@code session_id} on every line that belongs to a session.
 *
 * <p>Each handler calls {@link #install()} from its static initialiser and wraps its work in
 * {@link #invocation}. Everything the code logs through {@code java.util.logging} (the core,
 * the adapters) or SLF4J (the AWS SDK, Cedar's loader; SLF4J is bound to JUL) reaches Log4j 2
 * through one root JUL handler, {@link JulBridge}. Outside Lambda ({@code AWS_LAMBDA_FUNCTION_NAME}
 * unset) {@link #install()} changes nothing: the local server and CLI keep JUL's console output.
 *
 * <p>Limits: JUL's root level stays INFO unless {@code POWERTOOLS_LOG_LEVEL} asks for DEBUG or
 * TRACE, so that debug records of the AWS SDK are never built in production. Only messages are
 * redacted ({@link Redaction}); exception messages are logged as thrown.
 */
public final class LambdaLogging {
    /** Set by Lambda in every function's environment. */
    static final String FUNCTION_NAME_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME";
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();
    /** Whether the current thread is inside {@link #invocation}: only then may a line's session stick. */
    private static final ThreadLocal<Boolean> IN_INVOCATION = new ThreadLocal<>();

    private LambdaLogging() {
    }

    /**
     * Routes JUL to the JSON layout when running in Lambda; does nothing elsewhere. Idempotent and
     * cheap after the first call. Call it from a handler's static initialiser, during INIT.
     */
    public static void install() {
        install(System.getenv());
    }

    static void install(Map<String, String> environment) {
        String function = environment.get(FUNCTION_NAME_VARIABLE);
        if (function == null || function.isEmpty() || !INSTALLED.compareAndSet(false, true)) {
            return;
        }
        Logger root = LogManager.getLogManager().getLogger("");
        // JUL's default ConsoleHandler writes plain text to stderr: every line would appear twice
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        root.addHandler(new JulBridge());
        root.setLevel(julLevel(environment.get("POWERTOOLS_LOG_LEVEL")));
    }

    /** For tests: takes the bridge off JUL's root logger and puts JUL's console handler back. */
    static void uninstall() {
        if (!INSTALLED.compareAndSet(true, false)) {
            return;
        }
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler h : root.getHandlers()) {
            if (h instanceof JulBridge) {
                root.removeHandler(h);
            }
        }
        root.addHandler(new java.util.logging.ConsoleHandler());
        root.setLevel(Level.INFO);
    }

    /** Whether {@link #install()} has routed JUL to the JSON layout in this JVM. */
    public static boolean installed() {
        return INSTALLED.get();
    }

    /**
     * Runs one invocation's work with Powertools' Lambda fields (from {@code context}; none when it
     * is null) and, when known, {@code sessionId} on every line. When the session id is not known
     * up front (the gateway creates it), the first line that names a session sets it for the rest
     * of the invocation. Everything is cleared when the work ends.
     */
    public static <T> T invocation(Context context, String sessionId, Supplier<T> work) {
        if (context != null) {
            try {
                PowertoolsLogging.initializeLogging(context);
            } catch (RuntimeException e) {
                // a partial context (tests build them) costs the Lambda fields, never the request
                MDC.clear();
            }
        }
        IN_INVOCATION.set(Boolean.TRUE);
        if (sessionId != null) {
            MDC.put(SessionKey.NAME, sessionId);
        }
        try {
            return work.get();
        } finally {
            IN_INVOCATION.remove();
            MDC.remove(SessionKey.NAME);
            if (context != null) {
                PowertoolsLogging.clearState(true);
            }
        }
    }

    /** Called by the bridge when a line names its session: from then on the invocation's lines carry it. */
    static void sessionNamed(String sessionId) {
        if (Boolean.TRUE.equals(IN_INVOCATION.get()) && MDC.get(SessionKey.NAME) == null) {
            MDC.put(SessionKey.NAME, sessionId);
        }
    }

    private static Level julLevel(String powertoolsLevel) {
        if (powertoolsLevel == null) {
            return Level.INFO;
        }
        return switch (powertoolsLevel.trim().toUpperCase(java.util.Locale.ROOT)) {
            case "TRACE" -> Level.FINEST;
            case "DEBUG" -> Level.FINE;
            case "WARN" -> Level.WARNING;
            case "ERROR", "FATAL" -> Level.SEVERE;
            default -> Level.INFO;
        };
    }
}
