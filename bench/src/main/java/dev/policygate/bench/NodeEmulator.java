package dev.policygate.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A protocol emulator (dynalite, s3rver) run as a Node process bound to 127.0.0.1 on a free
 * port, from the pinned packages in {@code test/emulators}. Unlike the tests' emulators it never
 * installs them: run {@code npm ci} there first. Close it to stop the process; a JVM shutdown
 * hook stops it too if the benchmark is interrupted.
 */
final class NodeEmulator implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private final Process process;
    private final int port;
    private final Path dataDir;
    private final Path log;
    private final Thread stopOnExit;

    private NodeEmulator(Process process, int port, Path dataDir, Path log) {
        this.process = process;
        this.port = port;
        this.dataDir = dataDir;
        this.log = log;
        this.stopOnExit = new Thread(this::stopProcess, "stop-" + process.pid());
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    /** DynamoDB: dynalite in memory, tables created instantly. */
    static NodeEmulator dynalite() throws IOException {
        int port = freePort();
        return start(List.of("node", "node_modules/dynalite/cli.js", "--host", "127.0.0.1", "--port",
                Integer.toString(port), "--createTableMs", "0", "--updateTableMs", "0", "--deleteTableMs", "0"),
                false, port, null);
    }

    /** S3: s3rver on a fresh temporary folder, deleted on close. */
    static NodeEmulator s3rver() throws IOException {
        int port = freePort();
        Path dir = Files.createTempDirectory("pg-bench-s3rver");
        return start(List.of("node", "node_modules/s3rver/bin/s3rver.js", "-d", dir.toString(), "-a", "127.0.0.1",
                "-p", Integer.toString(port), "--silent"), true, port, dir);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    private static NodeEmulator start(List<String> command, boolean legacyOpenSsl, int port, Path dataDir)
            throws IOException {
        Path emulators = BenchData.root().resolve("test").resolve("emulators");
        for (String module : List.of("dynalite", "s3rver")) {
            if (!Files.isDirectory(emulators.resolve("node_modules").resolve(module))) {
                throw new IllegalStateException("the emulators are not installed: run `npm ci` in " + emulators);
            }
        }
        Path log = Files.createTempFile("pg-bench-emulator", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(emulators.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        if (legacyOpenSsl) {
            // s3rver's ListObjectsV2 paging needs the legacy OpenSSL provider on Node 17+
            pb.environment().put("NODE_OPTIONS", "--openssl-legacy-provider");
        }
        NodeEmulator emulator = new NodeEmulator(pb.start(), port, dataDir, log);
        try {
            emulator.awaitListening(command);
            return emulator;
        } catch (IOException | RuntimeException e) {
            emulator.close();
            throw e;
        }
    }

    private void awaitListening(List<String> command) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("emulator exited at start (see " + log + "): " + command);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while starting " + command, e);
                }
            }
        }
        throw new IOException("emulator did not listen within " + START_TIMEOUT.toSeconds() + " s (see " + log
                + "): " + command);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void stopProcess() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public void close() {
        stopProcess();
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run: the process is stopped either way
        }
        try {
            if (dataDir != null) {
                try (var files = Files.walk(dataDir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temporary folder left behind is harmless
        }
    }
}
