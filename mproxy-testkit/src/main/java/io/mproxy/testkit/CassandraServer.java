package io.mproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * One real Apache Cassandra node ({@code org.apache.cassandra:cassandra-all} 5.0.6) per test JVM,
 * in its own child JVM, with {@code PasswordAuthenticator} on (superuser
 * {@code cassandra}/{@code cassandra}) so that the proxy's backend login is exercised.
 *
 * <pre>{@code
 * CassandraServer node = CassandraServer.shared();   // starts once, 15-60 s
 * String backend = node.address();                    // 127.0.0.1:port
 * }</pre>
 *
 * <p>Why a child JVM: cassandra-all brings Netty 4.1, mproxy runs on Netty 4.2, so the node's
 * jars must never be on the test classpath. Its classpath is resolved once with Maven (a
 * standalone pom shipped in this module, the dependency plugin, the repository's own
 * {@code mvnw}) and cached under the repository's {@code target/cassandra-node/}; the jars live
 * in the local Maven repository. A node that does not come up fails the test with the reason
 * and the tail of its log. The child dies with the JVM (see {@link ChildProcesses}).
 */
public final class CassandraServer {

    public static final String HOST = "127.0.0.1";
    public static final String SUPERUSER = "cassandra";
    public static final String SUPERUSER_PASSWORD = "cassandra";

    private static final String POM_RESOURCE = "cassandra/node-pom.xml";
    private static final String LOGBACK_RESOURCE = "cassandra/logback.xml";
    private static final Duration RESOLVE_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(240);
    private static final int LOG_TAIL_LINES = 40;

    /** From Cassandra's conf/jvm17-server.options: what the node needs on Java 17. */
    private static final List<String> JAVA17_FLAGS = List.of(
            "-Djdk.attach.allowAttachSelf=true",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
            "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
            "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
            "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.base/java.io=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/java.util=ALL-UNNAMED",
            "-Dio.netty.tryReflectionSetAccessible=true");

    /** Start-up shortcuts for a single throw-away node. */
    private static final List<String> FAST_START_FLAGS = List.of(
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.ring_delay_ms=100",
            "-Dcassandra.superuser_setup_delay_ms=0",
            "-Dcassandra.auto_bootstrap=false",
            "-Dcassandra-foreground=yes");

    private static CassandraServer shared;

    private final Path dir;
    private final int port;
    private final List<String> command;
    /** The certificate a TLS-only node serves (its readiness probe trusts it), or null for plain text. */
    private final Path tlsCertificate;
    private volatile Process process;
    private volatile long startMillis;

    private CassandraServer(Path dir, int port, List<String> command, Path tlsCertificate) {
        this.dir = dir;
        this.port = port;
        this.command = List.copyOf(command);
        this.tlsCertificate = tlsCertificate;
    }

    /**
     * The node of this JVM, started on first call (later calls return it at once). Fails with
     * the reason and the node's log tail when it cannot start.
     */
    public static synchronized CassandraServer shared() {
        if (shared != null && shared.process.isAlive()) {
            return shared;
        }
        if (shared != null) {
            throw new IllegalStateException("the shared Cassandra node exited with "
                    + shared.process.exitValue() + shared.logTail());
        }
        shared = start(null, null);
        return shared;
    }

    /**
     * A node of its own (not {@link #shared()}), for a test that kills and restarts it; the
     * caller owns it and ends it with {@link #kill()} (the JVM's exit also does). Costs a second
     * node's start-up (15-60 s) and about 1 GB of memory.
     */
    public static CassandraServer startNew() {
        return start(null, null);
    }

    /**
     * A node of its own whose CQL port speaks only TLS ({@code client_encryption_options} with
     * {@code enabled: true, optional: false}, the PEM files through Cassandra's
     * {@code PEMBasedSslContextFactory}); no client certificate is asked for. The caller owns it
     * as with {@link #startNew()}. Readiness is a CQL login over TLS trusting {@code certificate}.
     *
     * @param certificate the PEM certificate the node serves
     * @param privateKey its unencrypted PEM private key
     */
    public static CassandraServer startNewTlsOnly(Path certificate, Path privateKey) {
        return start(certificate, privateKey);
    }

    /** Whether the CQL port speaks only TLS ({@link #startNewTlsOnly}). */
    public boolean tlsOnly() {
        return tlsCertificate != null;
    }

    /** The node JVM's pid (SIGSTOP / SIGCONT through {@link Signals}; CPU accounting from /proc). */
    public long pid() {
        return process.pid();
    }

    /** Kills the node JVM (SIGKILL, like a crash) and waits until it is gone. Idempotent. */
    public synchronized void kill() {
        if (process.isAlive() && !ChildProcesses.kill(process, 15_000)) {
            throw new IllegalStateException("the Cassandra node pid " + process.pid()
                    + " did not exit within 15 s of SIGKILL");
        }
    }

    /**
     * Kills the node if it runs and starts it again on the same ports and data directory (it
     * replays its commit log), then waits until a CQL login succeeds.
     */
    public synchronized void restart() {
        if (this == shared) {
            throw new IllegalStateException("the shared node is not restarted: other tests use it; use startNew()");
        }
        kill();
        launch();
    }

    public String host() {
        return HOST;
    }

    /** The CQL native protocol port. */
    public int port() {
        return port;
    }

    /** {@code host:port}, as configuration files spell backend addresses. */
    public String address() {
        return HOST + ":" + port;
    }

    /** How long the last start took, from launching the JVM to a successful CQL login. */
    public long startMillis() {
        return startMillis;
    }

    /** The node JVM's resident set size in KiB (from /proc), or -1 when unknown. */
    public long rssKib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** The last lines of the node's log, for failure messages. */
    public String logTail() {
        StringBuilder sb = new StringBuilder();
        for (String name : List.of("system.log", "stdout.log")) {
            Path file = dir.resolve(name);
            if (!Files.exists(file)) {
                continue;
            }
            try {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                sb.append(System.lineSeparator()).append("--- ").append(file).append(" (last ")
                        .append(LOG_TAIL_LINES).append(" lines) ---").append(System.lineSeparator());
                lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size())
                        .forEach(l -> sb.append(l).append(System.lineSeparator()));
            } catch (IOException | UncheckedIOException e) {
                sb.append(System.lineSeparator()).append("(cannot read ").append(file).append(": ").append(e).append(')');
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "CassandraServer[" + address() + (isRunning() ? ", running" : ", exited") + "]";
    }

    // ------------------------------------------------------------------ start

    private static CassandraServer start(Path tlsCertificate, Path tlsKey) {
        String classpath = nodeClasspath();
        Path dir;
        String tlsYaml = "";
        try {
            dir = Files.createTempDirectory("mproxy-cassandra-");
            Files.createDirectories(dir.resolve("data"));
            copyResource(LOGBACK_RESOURCE, dir.resolve("logback.xml"));
            if (tlsCertificate != null) {
                tlsYaml = tlsConfig(dir, tlsCertificate, tlsKey);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a directory for the Cassandra node", e);
        }
        int port = FreePort.loopback();
        int storagePort = FreePort.loopback();
        int jmxPort = FreePort.loopback();
        writeConfig(dir, port, storagePort, tlsYaml);

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xms256M", "-Xmx512M", "-XX:+UseG1GC", "-XX:+ParallelRefProcEnabled"));
        command.addAll(JAVA17_FLAGS);
        command.addAll(FAST_START_FLAGS);
        command.add("-Dcassandra.config=" + dir.resolve("cassandra.yaml").toUri());
        command.add("-Dcassandra.storagedir=" + dir.resolve("data"));
        command.add("-Dcassandra.logdir=" + dir);
        command.add("-Dcassandra.jmx.local.port=" + jmxPort);
        command.add("-Dlogback.configurationFile=" + dir.resolve("logback.xml"));
        command.addAll(List.of("-cp", classpath, "org.apache.cassandra.service.CassandraDaemon"));

        CassandraServer server = new CassandraServer(dir, port, command, tlsCertificate);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Process last = server.process;
            if (last != null) {
                last.destroyForcibly();
                try {
                    last.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            deleteRecursively(dir);
        }, "mproxy-testkit-cassandra-cleanup"));
        server.launch();
        return server;
    }

    /** Starts the node JVM (stdout appended to the directory's log) and waits for a CQL login. */
    private void launch() {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()));
        long t0 = System.nanoTime();
        try {
            process = ChildProcesses.start(builder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Cassandra node JVM", e);
        }
        awaitLogin(this, process);
        startMillis = (System.nanoTime() - t0) / 1_000_000;
    }

    /** Ready means: a CQL login as the superuser succeeds (the role exists only after start-up). */
    private static void awaitLogin(CassandraServer server, Process process) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "no attempt yet";
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the Cassandra node exited with " + process.exitValue()
                        + " before it accepted CQL logins" + server.logTail());
            }
            try {
                String error = server.tlsCertificate == null
                        ? CqlProbe.login(HOST, server.port, SUPERUSER, SUPERUSER_PASSWORD, Duration.ofSeconds(5))
                        : CqlProbe.loginTls(HOST, server.port, server.tlsCertificate, SUPERUSER, SUPERUSER_PASSWORD,
                                Duration.ofSeconds(5));
                if (error == null) {
                    return;
                }
                last = error;
            } catch (IOException e) {
                last = e.toString();
            }
            sleep(250);
        }
        ChildProcesses.kill(process, 10_000);
        throw new IllegalStateException("the Cassandra node did not accept a CQL login on " + HOST + ":"
                + server.port + " within " + READY_TIMEOUT.toSeconds() + " s (last: " + last + ")"
                + server.logTail());
    }

    /**
     * The {@code client_encryption_options} of a TLS-only node: the key and certificate go into one
     * PEM file (what {@code PEMBasedSslContextFactory} reads as its keystore); the certificate is
     * also the truststore, which the factory requires even when no client certificate is asked for.
     */
    private static String tlsConfig(Path dir, Path certificate, Path key) throws IOException {
        Path keystore = dir.resolve("node-keystore.pem");
        Files.writeString(keystore, Files.readString(key, StandardCharsets.US_ASCII) + "\n"
                + Files.readString(certificate, StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
        Path truststore = Files.copy(certificate, dir.resolve("node-truststore.pem"));
        return String.join("\n",
                "client_encryption_options:",
                "  enabled: true",
                "  optional: false",
                "  require_client_auth: false",
                "  keystore: " + keystore,
                "  truststore: " + truststore,
                "  ssl_context_factory:",
                "    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory",
                "");
    }

    private static void writeConfig(Path dir, int port, int storagePort, String tlsYaml) {
        Path data = dir.resolve("data");
        String yaml = String.join("\n",
                "cluster_name: mproxy-test",
                "num_tokens: 1",
                "initial_token: 0",
                "partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
                "authenticator: PasswordAuthenticator",
                "authorizer: AllowAllAuthorizer",
                "role_manager: CassandraRoleManager",
                "commitlog_sync: periodic",
                "commitlog_sync_period: 10000ms",
                "commitlog_directory: " + data.resolve("commitlog"),
                "data_file_directories: [" + data.resolve("data") + "]",
                "saved_caches_directory: " + data.resolve("saved_caches"),
                "hints_directory: " + data.resolve("hints"),
                "cdc_raw_directory: " + data.resolve("cdc_raw"),
                "seed_provider:",
                "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
                "    parameters:",
                "      - seeds: \"" + HOST + ":" + storagePort + "\"",
                "listen_address: " + HOST,
                "rpc_address: " + HOST,
                "storage_port: " + storagePort,
                "native_transport_port: " + port,
                "start_native_transport: true",
                "endpoint_snitch: SimpleSnitch",
                "concurrent_reads: 4",
                "concurrent_writes: 4",
                "concurrent_counter_writes: 4",
                "concurrent_compactors: 1",
                "memtable_allocation_type: heap_buffers",
                "disk_access_mode: mmap_index_only",
                "auto_snapshot: false",
                tlsYaml);
        try {
            Files.writeString(dir.resolve("cassandra.yaml"), yaml, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write cassandra.yaml", e);
        }
    }

    // ------------------------------------------------------------------ classpath

    /**
     * The node's classpath: from the cache when every jar in it still exists, else resolved
     * with Maven under a file lock (several test JVMs may ask at once).
     */
    static String nodeClasspath() {
        Path root = projectRoot();
        Path cacheDir = root.resolve("target").resolve("cassandra-node");
        Path cached = cacheDir.resolve("classpath.txt");
        try {
            Files.createDirectories(cacheDir);
            try (FileChannel lockFile = FileChannel.open(cacheDir.resolve(".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock lock = lockFile.lock()) {
                Path pom = cacheDir.resolve("pom.xml");
                byte[] wanted = resourceBytes(POM_RESOURCE);
                boolean pomChanged = !Files.exists(pom) || !Arrays.equals(Files.readAllBytes(pom), wanted);
                if (!pomChanged && usable(cached)) {
                    return Files.readString(cached).strip();
                }
                Files.write(pom, wanted);
                resolve(root, pom, cached);
                if (!usable(cached)) {
                    throw new IllegalStateException("Maven resolved the Cassandra node classpath into " + cached
                            + " but some of its jars are missing");
                }
                return Files.readString(cached).strip();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve the Cassandra node classpath under " + cacheDir, e);
        }
    }

    private static void resolve(Path root, Path pom, Path out) throws IOException {
        Path tmp = out.resolveSibling("classpath.tmp");
        Files.deleteIfExists(tmp);
        Path mvnw = root.resolve("mvnw");
        List<String> command = List.of(mvnw.toString(), "-B", "-q", "-f", pom.toString(),
                "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath",
                "-Dmdep.outputFile=" + tmp);
        ExternalCommand.Result result = ExternalCommand.run(command, RESOLVE_TIMEOUT);
        if (!result.succeeded() || !Files.exists(tmp)) {
            throw new IllegalStateException("cannot resolve cassandra-all 5.0.6 for the test node"
                    + " (needs Maven Central or a filled local repository): " + result.describe());
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static boolean usable(Path cached) throws IOException {
        if (!Files.exists(cached)) {
            return false;
        }
        String cp = Files.readString(cached).strip();
        if (cp.isEmpty() || !cp.contains("cassandra-all-5.0.6")) {
            return false;
        }
        for (String jar : cp.split(java.io.File.pathSeparator)) {
            if (!Files.isRegularFile(Path.of(jar))) {
                return false;
            }
        }
        return true;
    }

    /** The repository root: the nearest directory upwards from the working directory with {@code mvnw}. */
    private static Path projectRoot() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = p; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("mvnw")) && Files.isRegularFile(d.resolve("pom.xml"))
                    && Files.isDirectory(d.resolve("mproxy-testkit"))) {
                return d;
            }
        }
        throw new IllegalStateException("cannot find the mproxy repository root (a directory with mvnw)"
                + " above " + p + "; the Cassandra node's classpath is resolved with it");
    }

    // ------------------------------------------------------------------ helpers

    private static byte[] resourceBytes(String name) throws IOException {
        try (InputStream in = CassandraServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " missing from mproxy-testkit");
            }
            return in.readAllBytes();
        }
    }

    private static void copyResource(String name, Path to) throws IOException {
        Files.write(to, resourceBytes(name));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Cassandra node", e);
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
                    // best effort at JVM exit
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort at JVM exit
        }
    }
}
