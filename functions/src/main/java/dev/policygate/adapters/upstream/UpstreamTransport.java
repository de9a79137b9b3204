package dev.policygate.adapters.upstream;

import dev.policygate.core.upstream.UpstreamException;

import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * One HTTP/1.1 exchange with the upstream, over a pooled connection: sends the request and waits
 * at most {@code headerWait} for the status and headers. The body is read by the caller; closing
 * it before its end abandons the connection.
 */
interface UpstreamTransport {
    /** @param headers request headers, in order; the body (if any) is JSON */
    Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body, Duration headerWait)
            throws UpstreamException;

    /** Status, response headers (names lower-cased, first value of each) and the unread body. */
    record Reply(int status, Map<String, String> headers, InputStream body) {
    }
}
