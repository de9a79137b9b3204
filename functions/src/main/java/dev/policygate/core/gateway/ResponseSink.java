package dev.policygate.core.gateway;

import java.io.IOException;

/** Where a streamed response body goes. The server adapter flushes to the socket on {@link #flush()}. */
public interface ResponseSink {
    void write(byte[] bytes) throws IOException;

    void flush() throws IOException;
}
