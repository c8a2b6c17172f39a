package io.mproxy.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real MariaDB server from Debian's {@code mariadb-server} binaries, on a free loopback port,
 * with a private data directory made by {@code mariadb-install-db}. It has one application user
 * ({@link #USER} / {@link #PASSWORD}, {@code mysql_native_password}, all privileges) and a
 * database {@link #DATABASE}; anonymous users are dropped. {@link #sql} runs statements as root
 * over the server's Unix socket with the {@code mariadb} client.
 *
 * <p>The server runs as a child of the test JVM ({@link ChildProcesses}); when the JVM runs as
 * root it runs as user {@code mysql}, which then owns the directory. A missing binary fails with
 * the command that installs it.
 */
public final class MariaDbServer implements AutoCloseable {

    public static final String HOST = "127.0.0.1";
    public static final String USER = "app";
    public static final String PASSWORD = "secret";
    public static final String DATABASE = "app";

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(30);
    private static final Set<MariaDbServer> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(MariaDbServer::closeAllQuietly,
                "mproxy-testkit-mariadb-cleanup"));
    }

    private final Path dir;
    private final Path dataDir;
    private final Path socket;
    private final Path logFile;
    private final int port;
    private final boolean root;
    private List<String> extraArgs = List.of();
    private Process process;
    private boolean closed;

    private MariaDbServer(Path dir, int port, boolean root) {
        this.dir = dir;
        this.dataDir = dir.resolve("data");
        this.socket = dir.resolve("mariadb.sock");
        this.logFile = dir.resolve("mariadb.log");
        this.port = port;
        this.root = root;
    }

    /** Installs a data directory, starts the server and creates the application user. */
    public static MariaDbServer start(String... extraServerArgs) {
        Path daemon = Binaries.require("mariadbd", "mariadb-server");
        Path installDb = Binaries.require("mariadb-install-db", "mariadb-server");
        Binaries.require("mariadb", "mariadb-client");
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir;
        try {
            dir = Files.createTempDirectory("mproxy-mariadb-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for mariadb", e);
        }
        MariaDbServer server = new MariaDbServer(dir, FreePort.loopback(), root);
        OPEN.add(server);
        try {
            server.install(installDb);
            server.extraArgs = List.of(extraServerArgs);
            server.launch(daemon, server.extraArgs);
            server.bootstrapUsers();
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    /** {@code host:port}, as configuration files spell backend addresses. */
    public String address() {
        return HOST + ":" + port;
    }

    /** A JDBC URL for the MariaDB connector straight to the server (no proxy). */
    public String jdbcUrl() {
        return "jdbc:mariadb://" + address() + "/" + DATABASE;
    }

    /** What the server wrote to its error log so far: useful in assertion messages. */
    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /**
     * Runs {@code statements} as root over the Unix socket ({@code mariadb --batch
     * --skip-column-names}) and returns the output without the final line break; fails with the
     * client's error output when it exits non-zero.
     */
    public String sql(String statements) {
        Path cli = Binaries.require("mariadb", "mariadb-client");
        return run(List.of(cli.toString(), "--no-defaults", "--protocol=SOCKET", "-S", socket.toString(),
                "-uroot", "--batch", "--skip-column-names", "-e", statements), CLI_TIMEOUT);
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the server (SIGKILL) and waits until it is gone. Idempotent. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        if (!ChildProcesses.kill(process, STOP_TIMEOUT.toMillis())) {
            throw new IllegalStateException("mariadbd pid " + process.pid() + " did not exit within "
                    + STOP_TIMEOUT.toSeconds() + " s of SIGKILL");
        }
        process = null;
    }

    /** The server's pid; fails when it is not running. */
    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException(this + " is not running");
        }
        return process.pid();
    }

    /**
     * Kills the server if it runs ({@link #stop()}, SIGKILL) and starts it again on the same
     * port and data directory (InnoDB recovers from the crash), then waits until it greets.
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        stop();
        launch(Binaries.require("mariadbd", "mariadb-server"), extraArgs);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        try {
            stop();
        } finally {
            deleteRecursively(dir);
        }
    }

    @Override
    public String toString() {
        return "MariaDbServer[" + address() + (isRunning() ? ", running" : ", stopped") + "]";
    }

    /**
     * The server's own temporary directory: with the default (/tmp) concurrent installs on one
     * machine were seen to fail ("Could not remove temporary table '/tmp/#sql-temptable-…'").
     */
    private Path tmpDir() {
        return dir.resolve("tmp");
    }

    private void install(Path installDb) {
        try {
            Files.createDirectories(tmpDir());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create " + tmpDir() + ": " + e, e);
        }
        List<String> command = new ArrayList<>(List.of(installDb.toString(), "--no-defaults",
                "--datadir=" + dataDir, "--tmpdir=" + tmpDir(), "--auth-root-authentication-method=socket",
                "--skip-test-db"));
        if (root) {
            chownToMysql(dir);
            command.add("--user=mysql");
        }
        run(command, READY_TIMEOUT);
    }

    private void launch(Path daemon, List<String> extraArgs) {
        List<String> command = new ArrayList<>(List.of(daemon.toString(), "--no-defaults",
                "--datadir=" + dataDir, "--tmpdir=" + tmpDir(), "--port=" + port, "--socket=" + socket,
                "--bind-address=" + HOST, "--skip-name-resolve", "--log-error=" + logFile,
                "--pid-file=" + dir.resolve("mariadb.pid"),
                "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=2",
                "--performance-schema=OFF", "--max-connections=1000"));
        if (root) {
            command.add("--user=mysql");
        }
        command.addAll(extraArgs);
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()));
            process = ChildProcesses.start(builder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + daemon, e);
        }
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (!greets()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("mariadbd exited with " + process.exitValue() + logTail());
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("mariadbd did not accept connections on port " + port
                        + " within " + READY_TIMEOUT.toSeconds() + " s" + logTail());
            }
            pause(20);
        }
    }

    private void bootstrapUsers() {
        sql("DELETE FROM mysql.global_priv WHERE User='';"
                + " CREATE USER '" + USER + "'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('"
                + PASSWORD + "');"
                + " GRANT ALL PRIVILEGES ON *.* TO '" + USER + "'@'%' WITH GRANT OPTION;"
                + " CREATE DATABASE IF NOT EXISTS " + DATABASE + ";"
                + " FLUSH PRIVILEGES;");
    }

    /**
     * True once the server answers on the TCP port: a protocol-10 greeting, or an ERR packet
     * (before the application user exists, no account matches 127.0.0.1).
     */
    private boolean greets() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(FreePort.LOOPBACK, port), 250);
            s.setSoTimeout(1000);
            InputStream in = s.getInputStream();
            byte[] header = in.readNBytes(5);
            return header.length == 5 && (header[4] == 10 || header[4] == (byte) 0xFF);
        } catch (IOException notYet) {
            return false;
        }
    }

    private static void chownToMysql(Path path) {
        run(List.of("chown", "-R", "mysql:mysql", path.toString()), CLI_TIMEOUT);
    }

    private static String run(List<String> command, Duration timeout) {
        Path out = null;
        try {
            out = Files.createTempFile("mproxy-mariadb-cmd-", ".out");
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                ChildProcesses.kill(p, STOP_TIMEOUT.toMillis());
                throw new IllegalStateException(command.get(0) + " did not finish within "
                        + timeout.toSeconds() + " s");
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command.subList(0, Math.min(3, command.size())))
                        + " ... exited " + p.exitValue() + ": " + output.strip());
            }
            return output.endsWith("\n") ? output.substring(0, output.length() - 1) : output;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.get(0), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a stray temp file is harmless
                }
            }
        }
    }

    private String logTail() {
        List<String> lines = log().lines().toList();
        List<String> tail = lines.subList(Math.max(0, lines.size() - 20), lines.size());
        return tail.isEmpty() ? " (log is empty)" : "; last log lines:" + System.lineSeparator()
                + String.join(System.lineSeparator(), tail);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for mariadbd", e);
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a stray file is harmless
                }
            });
        } catch (IOException ignored) {
            // a stray temp directory is harmless
        }
    }

    private static void closeAllQuietly() {
        for (MariaDbServer server : OPEN) {
            try {
                server.close();
            } catch (RuntimeException ignored) {
                // best effort at JVM exit
            }
        }
    }
}
