package io.mproxy.testkit;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} from the local installation, on a free loopback port, in a fresh
 * temporary directory, with persistence off. For integration tests of the proxy:
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.start()) {
 *     assertEquals("PONG", redis.cli("PING"));
 *     redis.restart();               // same port: the proxy must reconnect
 * }
 * }</pre>
 *
 * <p>The server runs in the foreground as a child of the test JVM (see {@link ChildProcesses}),
 * so it is killed when the JVM ends. A missing binary fails with the command that installs it.
 */
public final class RedisServer implements AutoCloseable {

    /** The address every instance binds. */
    public static final String HOST = "127.0.0.1";

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration RESTART_BIND_RETRY = Duration.ofSeconds(5);
    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;
    private static final int PROBE_CONNECT_TIMEOUT_MILLIS = 250;
    private static final int PROBE_READ_TIMEOUT_MILLIS = 1000;
    private static final int LOG_TAIL_LINES = 20;

    private static final Set<RedisServer> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(RedisServer::closeAllQuietly, "mproxy-testkit-redis-cleanup"));
    }

    private final Path binary;
    private final Path dir;
    private final Path logFile;
    private final int port;
    private final String password;
    private final List<String> extraArgs;
    private final TlsFiles tls;
    private Process process;
    private boolean closed;

    /** The certificate and key a TLS-only server presents (its certificate is also its client CA). */
    private record TlsFiles(Path cert, Path key) {
    }

    private RedisServer(Path binary, Path dir, int port, String password, List<String> extraArgs, TlsFiles tls) {
        this.binary = binary;
        this.dir = dir;
        this.logFile = dir.resolve("redis.log");
        this.port = port;
        this.password = password;
        this.extraArgs = extraArgs;
        this.tls = tls;
    }

    /** Starts a server without a password and waits until it answers {@code PING}. */
    public static RedisServer start() {
        return builder().start();
    }

    /** Options for a server that needs more than {@link #start()} gives. */
    public static Builder builder() {
        return new Builder();
    }

    /** The executable {@code name} on PATH or in {@code /usr/bin}; see {@link Binaries#find}. */
    public static Optional<Path> findBinary(String name) {
        return Binaries.find(name);
    }

    /**
     * Runs {@code redis-cli -h host -p port args...} with no stdin, waits at most 10 s, and
     * returns its standard output without the final line break. {@code redis-cli} prints replies
     * raw when not on a terminal: {@code "PONG"}, {@code "1"}, error replies such as
     * {@code "ERR unknown command ..."} (which still exit 0). Fails if it cannot connect.
     */
    public static String cliAt(String host, int port, String... args) {
        List<String> command = new ArrayList<>(List.of("-h", host, "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        return runCli(command);
    }

    /** {@link #cliAt} against this server, authenticating when it has a password. */
    public String cli(String... args) {
        List<String> command = new ArrayList<>(List.of("-h", HOST, "-p", Integer.toString(port)));
        if (tls != null) {
            command.addAll(List.of("--tls", "--cacert", tls.cert().toString()));
        }
        if (password != null) {
            command.addAll(List.of("--no-auth-warning", "-a", password));
        }
        command.addAll(List.of(args));
        return runCli(command);
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

    /** The password given to {@code --requirepass}, if any. */
    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** What the server wrote to its log so far: useful in assertion messages. */
    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** The server's pid; fails when it is not running. */
    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException(this + " is not running");
        }
        return process.pid();
    }

    /** Kills the server (SIGKILL, like a crash) and waits until it is gone. Idempotent. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        if (!ChildProcesses.kill(process, STOP_TIMEOUT.toMillis())) {
            throw new IllegalStateException("redis-server pid " + process.pid() + " on port " + port
                    + " did not exit within " + STOP_TIMEOUT.toSeconds() + " s of SIGKILL");
        }
        process = null;
    }

    /**
     * Kills the server if it runs and starts it again on the same port and directory (empty, as
     * persistence is off), retrying the bind for a few seconds, then waits until it answers.
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("RedisServer on port " + port + " is closed");
        }
        stop();
        long deadline = System.nanoTime() + RESTART_BIND_RETRY.toNanos();
        while (true) {
            if (launchAndAwaitReady()) {
                return;
            }
            if (System.nanoTime() - deadline > 0 || !addressInUse()) {
                throw new IllegalStateException("redis-server did not restart on port " + port + logTail());
            }
            pause(50);
        }
    }

    /** Stops the server and deletes its directory. Idempotent. */
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
        return "RedisServer[" + address() + (isRunning() ? ", running" : ", stopped") + "]";
    }

    private boolean launchAndAwaitReady() {
        try {
            Files.deleteIfExists(logFile);
            ProcessBuilder builder = new ProcessBuilder(command())
                    .directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile());
            process = ChildProcesses.start(builder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + binary, e);
        }
        if (awaitReady(process)) {
            return true;
        }
        stop();
        return false;
    }

    private List<String> command() {
        List<String> command = new ArrayList<>(List.of(binary.toString(),
                "--bind", HOST,
                "--port", tls == null ? Integer.toString(port) : "0",
                "--dir", dir.toString(),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no"));
        if (password != null) {
            command.addAll(List.of("--requirepass", password));
        }
        if (tls != null) {
            command.addAll(List.of("--tls-port", Integer.toString(port),
                    "--tls-cert-file", tls.cert().toString(), "--tls-key-file", tls.key().toString(),
                    "--tls-ca-cert-file", tls.cert().toString(), "--tls-auth-clients", "no"));
        }
        command.addAll(extraArgs);
        return command;
    }

    /** Polls PING over a raw socket until {@code +PONG}, the process dies, or 10 s pass. */
    private boolean awaitReady(Process running) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (running.isAlive()) {
            if (pingOnce()) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            pause(10);
        }
        return false;
    }

    private boolean pingOnce() {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(FreePort.LOOPBACK, port), PROBE_CONNECT_TIMEOUT_MILLIS);
            plain.setSoTimeout(PROBE_READ_TIMEOUT_MILLIS);
            Socket socket = tls == null ? plain : tlsOver(plain);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            if (password != null) {
                out.write(resp("AUTH", password));
                out.flush();
                if (!"+OK".equals(readLine(in))) {
                    return false;
                }
            }
            out.write(resp("PING"));
            out.flush();
            return "+PONG".equals(readLine(in));
        } catch (IOException notYet) {
            return false;
        }
    }

    /**
     * The readiness probe's TLS: it only asks whether the process answers on its port, so it
     * trusts whatever certificate it is shown (the tests check verification through the proxy).
     */
    private static Socket tlsOver(Socket plain) throws IOException {
        try {
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {
                }

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                    .createSocket(plain, HOST, plain.getPort(), true);
            socket.startHandshake();
            return socket;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot set up TLS for the readiness probe", e);
        }
    }

    private static byte[] resp(String... parts) {
        StringBuilder frame = new StringBuilder().append('*').append(parts.length).append("\r\n");
        for (String part : parts) {
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            frame.append('$').append(bytes.length).append("\r\n").append(part).append("\r\n");
        }
        return frame.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != -1; ) {
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    private boolean addressInUse() {
        return log().contains("Address already in use");
    }

    private String logTail() {
        List<String> lines = log().lines().toList();
        List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
        return tail.isEmpty() ? " (log is empty)" : "; last log lines:" + System.lineSeparator()
                + String.join(System.lineSeparator(), tail);
    }

    private static String runCli(List<String> args) {
        Path cli = Binaries.require("redis-cli", "redis-tools");
        List<String> command = new ArrayList<>();
        command.add(cli.toString());
        command.addAll(args);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("mproxy-redis-cli-", ".out");
            err = Files.createTempFile("mproxy-redis-cli-", ".err");
            Process process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(CLI_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                ChildProcesses.kill(process, STOP_TIMEOUT.toMillis());
                throw new IllegalStateException("redis-cli " + args + " did not finish within "
                        + CLI_TIMEOUT.toSeconds() + " s");
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("redis-cli " + args + " exited " + process.exitValue()
                        + ": " + Files.readString(err, StandardCharsets.UTF_8).strip() + " " + stdout.strip());
            }
            return withoutFinalLineBreak(stdout);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running redis-cli", e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static String withoutFinalLineBreak(String text) {
        if (text.endsWith("\r\n")) {
            return text.substring(0, text.length() - 2);
        }
        if (text.endsWith("\n")) {
            return text.substring(0, text.length() - 1);
        }
        return text;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for redis-server", e);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a stray temp file is harmless
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(RedisServer::deleteQuietly);
        } catch (IOException ignored) {
            // a stray temp directory is harmless
        }
    }

    private static void closeAllQuietly() {
        for (RedisServer server : OPEN) {
            try {
                server.close();
            } catch (RuntimeException ignored) {
                // best effort at JVM exit
            }
        }
    }

    /** Options for {@link RedisServer}; {@link #start()} launches and waits until ready. */
    public static final class Builder {

        private String password;
        private TlsFiles tls;
        private final List<String> extraArgs = new ArrayList<>();

        private Builder() {
        }

        /** Requires clients to {@code AUTH} with {@code password} ({@code --requirepass}). */
        public Builder requirePass(String password) {
            this.password = Objects.requireNonNull(password, "password");
            return this;
        }

        /**
         * Serves only TLS ({@code --port 0 --tls-port P}) with this PEM certificate and key; clients
         * need not present certificates. {@link #cli} then runs {@code redis-cli --tls} trusting
         * {@code cert}.
         */
        public Builder tlsOnly(Path cert, Path key) {
            this.tls = new TlsFiles(Objects.requireNonNull(cert, "cert"), Objects.requireNonNull(key, "key"));
            return this;
        }

        /** Appends raw {@code redis-server} arguments, e.g. {@code "--maxclients", "16"}. */
        public Builder args(String... args) {
            extraArgs.addAll(List.of(args));
            return this;
        }

        /**
         * Starts the server on a free loopback port (another port is tried if that one is
         * taken meanwhile) and waits, at most 10 s, until it answers {@code PING}.
         *
         * @throws IllegalStateException if {@code redis-server} is not installed (the message
         *     says {@code apt-get install -y redis-server}) or does not come up
         */
        public RedisServer start() {
            Path binary = Binaries.require("redis-server", "redis-server");
            IllegalStateException failure = null;
            for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
                RedisServer server = new RedisServer(binary, newTempDir(), FreePort.loopback(), password,
                        List.copyOf(extraArgs), tls);
                OPEN.add(server);
                synchronized (server) {
                    if (server.launchAndAwaitReady()) {
                        return server;
                    }
                }
                boolean portTaken = server.addressInUse();
                IllegalStateException attemptFailure = new IllegalStateException(
                        "redis-server did not answer PING on port " + server.port + " within "
                                + READY_TIMEOUT.toSeconds() + " s" + server.logTail());
                server.close();
                if (failure != null) {
                    attemptFailure.addSuppressed(failure);
                }
                failure = attemptFailure;
                if (!portTaken) {
                    break;
                }
            }
            throw failure;
        }

        private static Path newTempDir() {
            try {
                return Files.createTempDirectory("mproxy-redis-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temporary directory", e);
            }
        }
    }
}
