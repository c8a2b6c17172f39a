package io.mproxy.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server from the local Debian packages, on a free loopback port, in a fresh
 * temporary directory, tuned for tests (no fsync), with a login role and database for the proxy
 * to use. For integration tests of the proxy's PostgreSQL support:
 *
 * <pre>{@code
 * static PostgresServer pg;
 * @BeforeAll static void start() { pg = PostgresServer.start(); }      // scram-sha-256 on TCP
 * @AfterAll static void stop() { pg.close(); }
 * ...
 * DriverManager.getConnection(pg.jdbcUrl("app"), "app", "secret");
 * pg.psql("SELECT count(*) FROM pg_stat_activity");                    // as superuser, via the socket
 * }</pre>
 *
 * <p>Why not {@code pg_ctl start}: pg_ctl daemonizes the postmaster, which then outlives a test
 * JVM that is killed. Here the postmaster runs in the foreground as a child of the JVM (through
 * {@link ChildProcesses}, with a parent-death signal), and is started as user {@code postgres}
 * with {@code setpriv} when the JVM runs as root, since PostgreSQL refuses to run as root.
 * Readiness is what {@code pg_ctl -w} waits for: the {@code ready} status in
 * {@code postmaster.pid}. {@link #stop()} uses {@code pg_ctl stop -m fast}; a JVM shutdown hook
 * runs {@code pg_ctl stop -m immediate} on whatever is still open.
 *
 * <p>The cluster is created once per JVM with {@code initdb} and copied for each server, so a
 * server is ready in well under a second after the first. Authentication on
 * {@code 127.0.0.1} is {@link HostAuth#SCRAM_SHA_256} unless chosen otherwise; the fixture itself
 * connects as superuser {@value #SUPERUSER} over the Unix socket with {@code trust}.
 */
public final class PostgresServer implements AutoCloseable {

    /** The address every instance listens on. */
    public static final String HOST = "127.0.0.1";
    /** The superuser, reachable only through the Unix socket in the server's directory. */
    public static final String SUPERUSER = "postgres";
    /** A login role (with CREATEDB) that every server has, owning {@link #APP_DATABASE}. */
    public static final String APP_USER = "app";
    public static final String APP_PASSWORD = "secret";
    public static final String APP_DATABASE = "app";

    private static final String OS_USER = "postgres";
    private static final Path PACKAGE_ROOT = Path.of("/usr/lib/postgresql");
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration RESTART_RETRY = Duration.ofSeconds(15);
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration CHILDREN_EXIT_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;
    private static final int LOG_TAIL_LINES = 30;
    private static final boolean ROOT = runningAsRoot();
    private static final Set<PostgresServer> OPEN = ConcurrentHashMap.newKeySet();
    private static final Map<Path, Path> TEMPLATES = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(PostgresServer::closeAllQuietly, "mproxy-testkit-postgres-cleanup"));
    }

    /** What {@code pg_hba.conf} demands of connections to {@code 127.0.0.1}. */
    public enum HostAuth {
        SCRAM_SHA_256("scram-sha-256"),
        /** md5; {@link #APP_USER}'s password is then stored as md5 so the server really asks for md5. */
        MD5("md5"),
        /** Cleartext password. */
        PASSWORD("password"),
        TRUST("trust");

        private final String hbaMethod;

        HostAuth(String hbaMethod) {
            this.hbaMethod = hbaMethod;
        }

        /** The method's name in {@code pg_hba.conf}. */
        public String hbaMethod() {
            return hbaMethod;
        }
    }

    /** How a role's password is stored ({@code password_encryption} when it is set). */
    public enum PasswordEncryption {
        SCRAM_SHA_256("scram-sha-256"),
        MD5("md5");

        private final String setting;

        PasswordEncryption(String setting) {
            this.setting = setting;
        }

        /** The value of {@code password_encryption}. */
        public String setting() {
            return setting;
        }
    }

    private final Path binDir;
    private final Path dir;
    private final Path dataDir;
    private final Path logFile;
    private final HostAuth hostAuth;
    private final int maxConnections;
    private final Map<String, String> settings;
    private PasswordEncryption appEncryption = PasswordEncryption.SCRAM_SHA_256;
    private int port;
    private Process process;
    private boolean closed;

    private PostgresServer(Path binDir, Path dir, int port, HostAuth hostAuth, int maxConnections,
            Map<String, String> settings) {
        this.binDir = binDir;
        this.dir = dir;
        this.dataDir = dir.resolve("data");
        this.logFile = dir.resolve("postgres.log");
        this.port = port;
        this.hostAuth = hostAuth;
        this.maxConnections = maxConnections;
        this.settings = settings;
    }

    /** Starts a server with {@code scram-sha-256} on TCP and {@code max_connections = 100}. */
    public static PostgresServer start() {
        return builder().start();
    }

    /** Options for a server that needs more than {@link #start()} gives. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The {@code bin} directory of the newest PostgreSQL under {@code /usr/lib/postgresql}.
     *
     * @throws IllegalStateException naming the Debian package {@code postgresql} if there is none
     */
    public static Path binDirectory() {
        List<Path> candidates = new ArrayList<>();
        if (Files.isDirectory(PACKAGE_ROOT)) {
            try (DirectoryStream<Path> versions = Files.newDirectoryStream(PACKAGE_ROOT)) {
                for (Path version : versions) {
                    Path bin = version.resolve("bin");
                    if (Files.isExecutable(bin.resolve("postgres")) && Files.isExecutable(bin.resolve("initdb"))) {
                        candidates.add(bin);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + PACKAGE_ROOT, e);
            }
        }
        return candidates.stream()
                .max(Comparator.comparing(PostgresServer::majorVersionOf))
                .orElseThrow(() -> new IllegalStateException("no PostgreSQL server binaries (postgres, initdb) under "
                        + PACKAGE_ROOT + "/<version>/bin. Install them with: apt-get install -y postgresql"
                        + " (or run scripts/test as root, which installs what the tests need)"));
    }

    /**
     * A client tool of the local PostgreSQL ({@code psql}, {@code pgbench}, {@code pg_isready}...)
     * from the server's {@code bin} directory, else from PATH.
     */
    public static Path tool(String name) {
        Path inBin = binDirectory().resolve(name);
        if (Files.isExecutable(inBin)) {
            return inBin;
        }
        String debianPackage = "pgbench".equals(name) ? "postgresql-contrib" : "postgresql-client";
        return Binaries.require(name, debianPackage);
    }

    public String host() {
        return HOST;
    }

    public synchronized int port() {
        return port;
    }

    /** {@code host:port}, as configuration files spell backend addresses. */
    public String address() {
        return HOST + ":" + port();
    }

    /** {@code jdbc:postgresql://127.0.0.1:port/database} (TCP, so {@link #hostAuth()} applies). */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + address() + "/" + database;
    }

    /** The directory that holds the Unix socket (and the data directory and log). */
    public Path socketDirectory() {
        return dir;
    }

    public Path dataDirectory() {
        return dataDir;
    }

    public HostAuth hostAuth() {
        return hostAuth;
    }

    public int maxConnections() {
        return maxConnections;
    }

    /** The major version of the binaries, e.g. 15. */
    public int majorVersion() {
        return majorVersionOf(binDir);
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The postmaster's process id, while it runs. */
    public synchronized long pid() {
        if (!isRunning()) {
            throw new IllegalStateException(this + " is not running");
        }
        return process.pid();
    }

    /** What the server wrote to its log so far (all starts): useful in assertion messages. */
    public String log() {
        try {
            return Files.exists(logFile) ? new String(Files.readAllBytes(logFile), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** {@link #psql(String, String)} in database {@code postgres}. */
    public String psql(String sql) {
        return psql("postgres", sql);
    }

    /**
     * Runs {@code sql} (one or more statements, each in its own transaction unless it says
     * otherwise) as the superuser with the {@code psql} CLI over the Unix socket, stopping at the
     * first error. Returns what psql printed in unaligned, tuples-only form (one row per line,
     * columns separated by {@code |}), without the final line break.
     *
     * @throws IllegalStateException with psql's stderr if a statement fails
     */
    public String psql(String database, String sql) {
        List<String> command = List.of(tool("psql").toString(), "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-h", dir.toString(), "-p", Integer.toString(port()),
                "-U", SUPERUSER, "-d", database, "-f", "-");
        ExternalCommand.Result result = ExternalCommand.run(command, Map.of("PGCONNECT_TIMEOUT", "10"), sql,
                TOOL_TIMEOUT);
        if (!result.succeeded()) {
            throw new IllegalStateException("psql failed on " + this + ": " + result.stderr().strip()
                    + System.lineSeparator() + "SQL: " + sql);
        }
        return withoutFinalLineBreak(result.stdout());
    }

    /**
     * Creates a login role {@code name} whose password is stored with {@code encryption}; with
     * {@link PasswordEncryption#MD5} the server asks that user for md5 even when
     * {@code pg_hba.conf} says {@code md5} and the default is SCRAM.
     */
    public void addUser(String name, String password, PasswordEncryption encryption) {
        psql("SET password_encryption = " + literal(encryption.setting()) + ";" + System.lineSeparator()
                + "CREATE ROLE " + identifier(name) + " LOGIN PASSWORD " + literal(password) + ";");
    }

    /** The stored password of {@code role}: a SCRAM verifier ({@code SCRAM-SHA-256$...}) or {@code md5...}. */
    public String storedPassword(String role) {
        String stored = psql("SELECT rolpassword FROM pg_authid WHERE rolname = " + literal(role));
        if (stored.isEmpty()) {
            throw new IllegalStateException("role " + role + " has no password on " + this);
        }
        return stored;
    }

    /** How many sessions of {@code user} the server has now, from {@code pg_stat_activity}. */
    public int sessionsOf(String user) {
        return Integer.parseInt(psql("SELECT count(*) FROM pg_stat_activity WHERE usename = " + literal(user)));
    }

    /**
     * Stops the server with {@code pg_ctl stop -m fast} (sessions are disconnected, in-flight
     * transactions roll back) and waits until the postmaster is gone. Idempotent.
     */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        if (process.isAlive()) {
            ExternalCommand.Result result = pgCtlStop("fast");
            if (!result.succeeded() && process.isAlive()) {
                kill9();
                return;
            }
        }
        awaitExit();
    }

    /**
     * Kills the postmaster with SIGKILL, as a crash would, and waits until it and its backend
     * processes (which exit when they notice the postmaster is gone) have ended, so that client
     * connections are broken when this returns. Idempotent.
     */
    public synchronized void kill9() {
        if (process == null) {
            return;
        }
        List<ProcessHandle> children = process.children().toList();
        if (!ChildProcesses.kill(process, STOP_TIMEOUT.toMillis())) {
            throw new IllegalStateException("postmaster pid " + process.pid() + " did not exit within "
                    + STOP_TIMEOUT.toSeconds() + " s of SIGKILL");
        }
        process = null;
        long deadline = System.nanoTime() + CHILDREN_EXIT_TIMEOUT.toNanos();
        for (ProcessHandle child : children) {
            while (child.isAlive() && System.nanoTime() - deadline < 0) {
                pause(10);
            }
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
    }

    /**
     * Stops the server if it runs ({@link #stop()}) and starts it again on the same port and data,
     * retrying for a few seconds while the port or the old shared memory is still held (after
     * {@link #kill9()}), then waits until it accepts connections.
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        stop();
        long deadline = System.nanoTime() + RESTART_RETRY.toNanos();
        while (true) {
            long logStart = logSize();
            if (launchAndAwaitReady()) {
                return;
            }
            String newLog = logSince(logStart);
            boolean transientFailure = newLog.contains("Address already in use")
                    || newLog.contains("pre-existing shared memory block")
                    || newLog.contains("lock file");
            if (!transientFailure || System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("PostgreSQL did not restart on port " + port + logTail());
            }
            pause(50);
        }
    }

    /** Stops the server immediately ({@code -m immediate}) and deletes its directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        try {
            stopImmediately();
        } finally {
            deleteRecursively(dir);
        }
    }

    @Override
    public String toString() {
        return "PostgresServer[" + address() + ", " + dir + (isRunning() ? ", running" : ", stopped") + "]";
    }

    // ---------------------------------------------------------------- start

    private void prepare(Path template, PasswordEncryption appEncryption, Optional<TestCertificates> tls) {
        ExternalCommand.run(List.of("cp", "-a", template.toString(), dataDir.toString()), TOOL_TIMEOUT)
                .requireSuccess();
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("listen_addresses", HOST);
        conf.put("unix_socket_directories", dir.toString());
        conf.put("max_connections", Integer.toString(maxConnections));
        conf.put("fsync", "off");
        conf.put("synchronous_commit", "off");
        conf.put("full_page_writes", "off");
        conf.put("password_encryption", "scram-sha-256");
        tls.ifPresent(certificates -> conf.putAll(installCertificates(certificates)));
        conf.putAll(settings);
        writeOwned(dataDir.resolve("mproxy.conf"), render(conf));
        appendOwned(dataDir.resolve("postgresql.conf"), System.lineSeparator() + "include 'mproxy.conf'"
                + System.lineSeparator());
        writePort();
        writeOwned(dataDir.resolve("pg_hba.conf"), String.join(System.lineSeparator(),
                "# written by mproxy-testkit PostgresServer",
                "local all " + SUPERUSER + " trust",
                "host all all 127.0.0.1/32 " + hostAuth.hbaMethod(),
                ""));
        this.appEncryption = appEncryption;
    }

    private Map<String, String> installCertificates(TestCertificates certificates) {
        Path cert = dataDir.resolve("server.crt");
        Path key = dataDir.resolve("server.key");
        try {
            writeOwned(cert, Files.readString(certificates.certificate(), StandardCharsets.US_ASCII));
            writeOwned(key, Files.readString(certificates.privateKey(), StandardCharsets.US_ASCII));
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install the TLS certificate into " + dataDir, e);
        }
        return Map.of("ssl", "on", "ssl_cert_file", cert.toString(), "ssl_key_file", key.toString());
    }

    private void writePort() {
        writeOwned(dataDir.resolve("mproxy-port.conf"), "port = " + port + System.lineSeparator());
        Path main = dataDir.resolve("postgresql.conf");
        try {
            if (!Files.readString(main, StandardCharsets.UTF_8).contains("include 'mproxy-port.conf'")) {
                appendOwned(main, "include 'mproxy-port.conf'" + System.lineSeparator());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + main, e);
        }
    }

    private void createAppRoleAndDatabase() {
        psql("SET password_encryption = " + literal(appEncryption.setting()) + ";" + System.lineSeparator()
                + "CREATE ROLE " + identifier(APP_USER) + " LOGIN CREATEDB PASSWORD " + literal(APP_PASSWORD) + ";"
                + System.lineSeparator()
                + "CREATE DATABASE " + identifier(APP_DATABASE) + " OWNER " + identifier(APP_USER) + ";");
    }

    private boolean launchAndAwaitReady() {
        List<String> command = new ArrayList<>(asPostgresUser(true));
        command.addAll(List.of(binDir.resolve("postgres").toString(), "-D", dataDir.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        try {
            process = ChildProcesses.start(builder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        if (awaitReady(process)) {
            return true;
        }
        if (process.isAlive()) {
            ChildProcesses.kill(process, STOP_TIMEOUT.toMillis());
        }
        process = null;
        return false;
    }

    /** Polls {@code postmaster.pid} until it names this process with status {@code ready}. */
    private boolean awaitReady(Process running) {
        Path pidFile = dataDir.resolve("postmaster.pid");
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (running.isAlive()) {
            if (isReady(pidFile, running.pid())) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            pause(10);
        }
        return false;
    }

    private static boolean isReady(Path pidFile, long pid) {
        try {
            List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
            return lines.size() >= 8 && lines.get(0).strip().equals(Long.toString(pid))
                    && lines.get(7).strip().equals("ready");
        } catch (IOException notYet) {
            return false;
        }
    }

    // ---------------------------------------------------------------- stop

    private void stopImmediately() {
        if (process == null) {
            return;
        }
        if (process.isAlive()) {
            ExternalCommand.Result result = pgCtlStop("immediate");
            if (!result.succeeded() && process.isAlive()) {
                kill9();
                return;
            }
        }
        awaitExit();
    }

    private ExternalCommand.Result pgCtlStop(String mode) {
        List<String> command = new ArrayList<>(asPostgresUser(false));
        command.addAll(List.of(binDir.resolve("pg_ctl").toString(), "stop", "-D", dataDir.toString(),
                "-m", mode, "-w", "-t", Long.toString(STOP_TIMEOUT.toSeconds())));
        return ExternalCommand.run(command, STOP_TIMEOUT.plusSeconds(5));
    }

    private void awaitExit() {
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                kill9();
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping " + this, e);
        }
        process = null;
    }

    // ---------------------------------------------------------------- helpers

    /**
     * The prefix that runs a command as OS user {@code postgres} when this JVM is root: setpriv
     * for the long-running postmaster (same pid, so the parent-death signal and SIGKILL reach
     * it; setpriv sets the signal after switching user, which would otherwise clear it),
     * runuser for tools.
     */
    private static List<String> asPostgresUser(boolean longRunning) {
        if (!ROOT) {
            return List.of();
        }
        Optional<Path> setpriv = Binaries.find("setpriv");
        if (longRunning && setpriv.isPresent()) {
            return List.of(setpriv.get().toString(), "--reuid=" + OS_USER, "--regid=" + OS_USER, "--init-groups",
                    "--pdeathsig", "KILL", "--");
        }
        return List.of(Binaries.require("runuser", "util-linux").toString(), "-u", OS_USER, "--");
    }

    private static synchronized Path template(Path binDir) {
        Path existing = TEMPLATES.get(binDir);
        if (existing != null) {
            return existing;
        }
        Path root = newOwnedTempDir("mproxy-pg-template-");
        Path data = root.resolve("data");
        List<String> command = new ArrayList<>(asPostgresUser(false));
        command.addAll(List.of(binDir.resolve("initdb").toString(), "-D", data.toString(), "-U", SUPERUSER,
                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"));
        ExternalCommand.Result result = ExternalCommand.run(command, Map.of("LC_ALL", "C"), null, TOOL_TIMEOUT);
        if (!result.succeeded()) {
            deleteRecursively(root);
            throw new IllegalStateException("initdb failed: " + result.describe());
        }
        TEMPLATES.put(binDir, data);
        return data;
    }

    private static Path newOwnedTempDir(String prefix) {
        try {
            Path created = Files.createTempDirectory(prefix);
            chownToPostgres(created);
            return created;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory", e);
        }
    }

    private static void chownToPostgres(Path path) {
        if (!ROOT) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal user = lookup.lookupPrincipalByName(OS_USER);
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(OS_USER);
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            view.setOwner(user);
            view.setGroup(group);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot give " + path + " to OS user " + OS_USER
                    + " (running as root, PostgreSQL must run as " + OS_USER
                    + "; the Debian package postgresql creates that user)", e);
        }
    }

    private static void writeOwned(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        chownToPostgres(file);
    }

    private static void appendOwned(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    private static String render(Map<String, String> conf) {
        StringBuilder text = new StringBuilder("# written by mproxy-testkit PostgresServer").append(System.lineSeparator());
        conf.forEach((name, value) -> text.append(name).append(" = ").append(literal(value)).append(System.lineSeparator()));
        return text.toString();
    }

    /** A SQL (and postgresql.conf) string literal. */
    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** A SQL quoted identifier. */
    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private long logSize() {
        try {
            return Files.exists(logFile) ? Files.size(logFile) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private String logSince(long offset) {
        String all = log();
        byte[] bytes = all.getBytes(StandardCharsets.UTF_8);
        return offset >= bytes.length ? "" : new String(bytes, (int) offset, bytes.length - (int) offset,
                StandardCharsets.UTF_8);
    }

    private String logTail() {
        List<String> lines = log().lines().toList();
        List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
        return tail.isEmpty() ? " (log is empty)" : "; last log lines:" + System.lineSeparator()
                + String.join(System.lineSeparator(), tail);
    }

    private static int majorVersionOf(Path binDir) {
        try {
            return Integer.parseInt(binDir.getParent().getFileName().toString());
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static boolean runningAsRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static String withoutFinalLineBreak(String text) {
        return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // a stray temp file is harmless
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // a stray temp directory is harmless
        }
    }

    private static void closeAllQuietly() {
        for (PostgresServer server : OPEN) {
            try {
                server.close();
            } catch (RuntimeException ignored) {
                // best effort at JVM exit
            }
        }
        for (Path template : TEMPLATES.values()) {
            deleteRecursively(template.getParent());
        }
    }

    /** Options for {@link PostgresServer}; {@link #start()} launches and waits until ready. */
    public static final class Builder {

        private HostAuth hostAuth = HostAuth.SCRAM_SHA_256;
        private int maxConnections = 100;
        private PasswordEncryption appEncryption;
        private TestCertificates tls;
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {
        }

        /** The {@code pg_hba.conf} method for TCP connections (default scram-sha-256). */
        public Builder hostAuth(HostAuth hostAuth) {
            this.hostAuth = Objects.requireNonNull(hostAuth, "hostAuth");
            return this;
        }

        /** {@code max_connections} (default 100; 3 of them are reserved for superusers). */
        public Builder maxConnections(int maxConnections) {
            if (maxConnections < 4) {
                throw new IllegalArgumentException("maxConnections: " + maxConnections + " (expected: >= 4)");
            }
            this.maxConnections = maxConnections;
            return this;
        }

        /**
         * How {@link #APP_USER}'s password is stored; by default md5 when {@link #hostAuth} is
         * {@link HostAuth#MD5}, else SCRAM.
         */
        public Builder appPasswordEncryption(PasswordEncryption encryption) {
            this.appEncryption = Objects.requireNonNull(encryption, "encryption");
            return this;
        }

        /** Serves TLS ({@code ssl = on}) with this certificate; clients may still connect without it. */
        public Builder tls(TestCertificates certificates) {
            this.tls = Objects.requireNonNull(certificates, "certificates");
            return this;
        }

        /** Any other server setting, e.g. {@code setting("log_connections", "on")}. */
        public Builder setting(String name, String value) {
            settings.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Creates the cluster (a copy of one {@code initdb} per JVM), starts the server on a free
         * loopback port (another is tried if that one is taken meanwhile), waits, at most 30 s,
         * until it accepts connections, and creates role {@link #APP_USER} and database
         * {@link #APP_DATABASE}.
         *
         * @throws IllegalStateException if the binaries are missing (naming the package) or the
         *     server does not come up (with the end of its log)
         */
        public PostgresServer start() {
            Path binDir = binDirectory();
            Path template = template(binDir);
            PasswordEncryption encryption = appEncryption != null ? appEncryption
                    : hostAuth == HostAuth.MD5 ? PasswordEncryption.MD5 : PasswordEncryption.SCRAM_SHA_256;
            PostgresServer server = new PostgresServer(binDir, newOwnedTempDir("mproxy-pg-"), FreePort.loopback(),
                    hostAuth, maxConnections, Map.copyOf(settings));
            OPEN.add(server);
            try {
                synchronized (server) {
                    server.prepare(template, encryption, Optional.ofNullable(tls));
                    launchOnSomeFreePort(server);
                    server.createAppRoleAndDatabase();
                }
                return server;
            } catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
        }

        private static void launchOnSomeFreePort(PostgresServer server) {
            for (int attempt = 1; ; attempt++) {
                long logStart = server.logSize();
                if (server.launchAndAwaitReady()) {
                    return;
                }
                boolean portTaken = server.logSince(logStart).contains("Address already in use");
                if (!portTaken || attempt == START_ATTEMPTS) {
                    throw new IllegalStateException("PostgreSQL did not become ready on port " + server.port
                            + " within " + READY_TIMEOUT.toSeconds() + " s" + server.logTail());
                }
                server.port = FreePort.loopback();
                server.writePort();
            }
        }
    }
}
