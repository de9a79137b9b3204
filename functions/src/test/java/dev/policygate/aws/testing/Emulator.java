package dev.policygate.aws.testing;

import dev.policygate.testing.Fixtures;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A protocol emulator (dynalite, s3rver) run as a Node process on 127.0.0.1 and a free port.
 * The npm packages are pinned in {@code test/emulators/package-lock.json}; the first use
 * installs them with {@code npm ci} when they are missing. Close it to stop the process.
 */
public final class Emulator implements AutoCloseable {
    private static final Object INSTALL_LOCK = new Object();
    private final Process process;
    private final int port;
    private final Path workDir;

    private Emulator(Process process, int port, Path workDir) {
        this.process = process;
        this.port = port;
        this.workDir = workDir;
    }

    /** DynamoDB: dynalite in memory, tables created instantly. */
    public static Emulator dynalite() throws IOException {
        int port = freePort();
        return start(List.of("node", "node_modules/dynalite/cli.js", "--host", "127.0.0.1", "--port",
                Integer.toString(port), "--createTableMs", "0", "--updateTableMs", "0", "--deleteTableMs", "0"),
                port, null);
    }

    /** S3: s3rver on a fresh temporary folder. */
    public static Emulator s3rver() throws IOException {
        int port = freePort();
        Path dir = Files.createTempDirectory("s3rver");
        return start(List.of("node", "node_modules/s3rver/bin/s3rver.js", "-d", dir.toString(), "-a", "127.0.0.1",
                "-p", Integer.toString(port), "--silent"), port, dir);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    private static Emulator start(List<String> command, int port, Path workDir) throws IOException {
        Path emulators = ensureInstalled();
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(emulators.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        // s3rver's ListObjectsV2 paging needs the legacy OpenSSL provider on Node 20
        pb.environment().put("NODE_OPTIONS", "--openssl-legacy-provider");
        Process p = pb.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("emulator exited at start: " + command);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return new Emulator(p, port, workDir);
            } catch (IOException notYet) {
                sleep(50);
            }
        }
        p.destroyForcibly();
        throw new IOException("emulator did not start within 20 s: " + command);
    }

    /** Installs the pinned emulators once (npm ci) when node_modules is missing. */
    static Path ensureInstalled() throws IOException {
        Path dir = Fixtures.root().resolve("test").resolve("emulators");
        synchronized (INSTALL_LOCK) {
            if (!Files.isDirectory(dir.resolve("node_modules/dynalite"))
                    || !Files.isDirectory(dir.resolve("node_modules/s3rver"))
                    || !Files.isDirectory(dir.resolve("node_modules/asl-validator"))) {
                Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(dir.toFile())
                        .redirectErrorStream(true).redirectOutput(new File(dir.toFile(), "npm-ci.log")).start();
                try {
                    if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
                        throw new IOException("npm ci failed in " + dir + " (see npm-ci.log)");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while installing emulators", e);
                }
            }
        }
        return dir;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        if (workDir != null) {
            try (var files = Files.walk(workDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // a temp folder left behind is harmless
            }
        }
    }
}
