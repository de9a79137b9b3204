package dev.policygate.core.upstream;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * A response from Claude. The body is a stream so that SSE can be relayed as it arrives; the
 * caller must close it.
 *
 * @param headers lower-cased names
 */
public record UpstreamResponse(int status, Map<String, String> headers, InputStream body) implements Closeable {
    public String header(String name) {
        return headers.get(name);
    }

    @Override
    public void close() throws IOException {
        body.close();
    }
}
