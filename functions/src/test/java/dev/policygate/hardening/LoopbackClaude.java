package dev.policygate.hardening;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Messages API stand-in on a raw 127.0.0.1 socket, so that faults can be exact: a status with
 * a body, silence before the headers, a reply trickled a byte at a time, a connection reset (RST)
 * in the middle of a stream, or whatever bytes a test scripts. Counts the requests it received,
 * which is how the tests prove that nothing was forwarded twice.
 */
final class LoopbackClaude implements AutoCloseable {
    /** Writes the response for one request; the socket is closed afterwards unless it was reset. */
    @FunctionalInterface
    interface Script {
        void respond(Socket socket, OutputStream out) throws IOException, InterruptedException;
    }

    /** The gateway's upstream credential in these tests, shaped like a real one so that it is detectable. */
    static final String UPSTREAM_KEY = "sk-ant-api03-" + "Zq8vN2xL5pR7tW1yB4cF6hJ9kM3nQ0sU2vX5zA8dG1iK4oP7rT0w";

    static final String MESSAGE = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
            + "\"claude-sonnet-4-5\",\"content\":[{\"type\":\"text\",\"text\":\"write to eve@example.com\"}],"
            + "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":5}}";

    private final ServerSocket server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "loopback-claude");
        t.setDaemon(true);
        return t;
    });
    final AtomicInteger requests = new AtomicInteger();
    volatile Script script = ok();

    LoopbackClaude() throws IOException {
        server = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
        pool.execute(this::accept);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                pool.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            readRequest(in);
            requests.incrementAndGet();
            OutputStream out = s.getOutputStream();
            script.respond(s, out);
            out.flush();
        } catch (IOException | InterruptedException e) {
            // the gateway hung up (timeouts): nothing to do
        }
    }

    /** Reads the request line, headers and a Content-Length body. */
    private static void readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                break;
            }
        }
        int length = 0;
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        in.readNBytes(length);
    }

    // ---- scripts ------------------------------------------------------------------------------

    static void head(OutputStream out, int status, String contentType, String extra) throws IOException {
        out.write(("HTTP/1.1 " + status + " X\r\ncontent-type: " + contentType + "\r\nconnection: close\r\n" + extra
                + "\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    static Script ok() {
        return (s, out) -> {
            byte[] body = MESSAGE.getBytes(StandardCharsets.UTF_8);
            head(out, 200, "application/json", "request-id: req_1\r\ncontent-length: " + body.length + "\r\n");
            out.write(body);
        };
    }

    static Script status(int status, String type, String extraHeaders) {
        return (s, out) -> {
            byte[] body = ("{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"internal detail, key "
                    + UPSTREAM_KEY + "\"}}").getBytes(StandardCharsets.UTF_8);
            head(out, status, "application/json", extraHeaders + "content-length: " + body.length + "\r\n");
            out.write(body);
        };
    }

    /** Sends nothing at all for {@code millis}. */
    static Script silent(long millis) {
        return (s, out) -> Thread.sleep(millis);
    }

    /** Sends the headers, then the body one byte every {@code gapMillis}. */
    static Script trickle(String contentType, String body, long gapMillis) {
        return (s, out) -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            head(out, 200, contentType, "content-length: " + bytes.length + "\r\n");
            out.flush();
            for (byte x : bytes) {
                out.write(x);
                out.flush();
                Thread.sleep(gapMillis);
            }
        };
    }

    /** Streams {@code sse}, then resets the connection (RST) without ending the body. */
    static Script resetAfter(String sse) {
        return (s, out) -> {
            head(out, 200, "text/event-stream", "");
            out.write(sse.getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(100);
            s.setSoLinger(true, 0);
            s.close();
        };
    }

    /** A complete text/event-stream body, as scripted. */
    static Script stream(String sse) {
        return (s, out) -> {
            head(out, 200, "text/event-stream", "");
            out.write(sse.getBytes(StandardCharsets.UTF_8));
        };
    }

    @Override
    public void close() throws IOException {
        server.close();
        pool.shutdownNow();
    }
}
