package dev.policygate.aws.logging;

import org.apache.logging.log4j.CloseableThreadContext;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.message.Message;
import org.apache.logging.log4j.message.SimpleMessage;
import org.apache.logging.log4j.spi.ExtendedLogger;
import org.slf4j.MDC;

import java.util.HashMap;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;

/**
 * A {@code java.util.logging} handler that hands every record to Log4j 2, where the Lambda
 * configuration renders it with Powertools' JSON layout.
 *
 * <p>Why a handler and not Log4j's JUL {@code LogManager}: that one must be chosen with
 * {@code -Djava.util.logging.manager} before the JVM starts, which a Lambda function cannot do.
 * Why not Log4j's own bridge handler: SLF4J is bound to JUL here (one binding for the local server
 * and Lambda alike), so the keys Powertools puts into the SLF4J MDC (function name, cold start,
 * trace id) and {@code session_id} live in SLF4J's MDC, not in Log4j's context. This handler copies
 * them onto each event, adds {@code session_id} from a {@code "session <id>:"} prefix, and redacts
 * anything shaped like a credential from the message.
 *
 * <p>Records are published on the logging thread, so the MDC read is the invocation's own.
 */
final class JulBridge extends Handler {
    private static final String FQCN = java.util.logging.Logger.class.getName();
    private final SimpleFormatter formatter = new SimpleFormatter();

    @Override
    public void publish(LogRecord record) {
        if (record == null || !isLoggable(record)) {
            return;
        }
        String name = record.getLoggerName() == null ? "" : record.getLoggerName();
        ExtendedLogger logger = (ExtendedLogger) LogManager.getLogger(name);
        Level level = level(record.getLevel().intValue());
        if (!logger.isEnabled(level)) {
            return;
        }
        String message = formatter.formatMessage(record);
        Map<String, String> context = new HashMap<>();
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        if (mdc != null) {
            context.putAll(mdc);
        }
        String session = SessionKey.fromMessage(message);
        if (session != null) {
            context.put(SessionKey.NAME, session);
            LambdaLogging.sessionNamed(session);
        }
        try (CloseableThreadContext.Instance ignored = CloseableThreadContext.putAll(context)) {
            logger.logIfEnabled(FQCN, level, null, (Message) new SimpleMessage(Redaction.redact(message)),
                    record.getThrown());
        }
    }

    @Override
    public void flush() {
        // Log4j's console appender flushes each event
    }

    @Override
    public void close() {
        // Log4j owns the appenders
    }

    static Level level(int julLevel) {
        if (julLevel >= java.util.logging.Level.SEVERE.intValue()) {
            return Level.ERROR;
        }
        if (julLevel >= java.util.logging.Level.WARNING.intValue()) {
            return Level.WARN;
        }
        if (julLevel >= java.util.logging.Level.CONFIG.intValue()) {
            return Level.INFO;
        }
        if (julLevel >= java.util.logging.Level.FINE.intValue()) {
            return Level.DEBUG;
        }
        return Level.TRACE;
    }
}
