package io.mproxy.testkit;

import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code mongo-java-server} (memory backend) in a child JVM of its own, so that a test can crash
 * it like a real {@code mongod}: SIGKILL ({@link #kill()}), SIGSTOP/SIGCONT ({@link #freeze()},
 * {@link #thaw()}), and start it again on the same port ({@link #restart()}, empty, as the
 * backend is in memory). {@link MongoServer#start()} runs in the test JVM and can only be shut
 * down politely; this one dies the way servers die.
 *
 * <p>The child runs this class's {@link #main} from the test JVM's own class path and dies with
 * the test JVM (see {@link ChildProcesses}).
 */
public final class MongoServerProcess implements AutoCloseable {

    public static final String HOST = "127.0.0.1";

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final int port;
    private final Path log;
    private Process process;

    private MongoServerProcess(int port, Path log) {
        this.port = port;
        this.log = log;
    }

    /** Starts the child on a free loopback port and waits until it accepts connections. */
    public static MongoServerProcess start() {
        Path log;
        try {
            log = Files.createTempFile("mproxy-mongo-child-", ".log");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a log file for the mongo child", e);
        }
        MongoServerProcess server = new MongoServerProcess(FreePort.loopback(), log);
        server.launch();
        return server;
    }

    public int port() {
        return port;
    }

    /** {@code host:port}, as configuration files spell backend addresses. */
    public String address() {
        return HOST + ":" + port;
    }

    /** {@code mongodb://host:port} for a driver connecting directly. */
    public String connectionString() {
        return "mongodb://" + address();
    }

    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException("the mongo child is not running");
        }
        return process.pid();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the child (SIGKILL, like a crash) and waits until it is gone. Idempotent. */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        if (!ChildProcesses.kill(process, STOP_TIMEOUT.toMillis())) {
            throw new IllegalStateException("mongo child pid " + process.pid() + " did not exit within "
                    + STOP_TIMEOUT.toSeconds() + " s of SIGKILL");
        }
        process = null;
    }

    /** SIGSTOP: connections stay open, nothing is answered until {@link #thaw()}. */
    public synchronized void freeze() {
        Signals.stop(pid());
    }

    /** SIGCONT after {@link #freeze()}. */
    public synchronized void thaw() {
        Signals.resume(pid());
    }

    /** Kills the child if it runs and starts a new one (empty) on the same port. */
    public synchronized void restart() {
        kill();
        launch();
    }

    /** What the child printed: for assertion messages. */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    @Override
    public synchronized void close() {
        kill();
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a stray temp file is harmless
        }
    }

    @Override
    public String toString() {
        return "MongoServerProcess[" + address() + (isRunning() ? ", running" : ", stopped") + "]";
    }

    private synchronized void launch() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), MongoServerProcess.class.getName(),
                Integer.toString(port))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            process = ChildProcesses.start(builder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the mongo child JVM", e);
        }
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (!accepts()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the mongo child exited with " + process.exitValue() + ": " + log());
            }
            if (System.nanoTime() - deadline > 0) {
                kill();
                throw new IllegalStateException("the mongo child did not listen on " + address() + " within "
                        + READY_TIMEOUT.toSeconds() + " s: " + log());
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the mongo child", e);
            }
        }
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(FreePort.LOOPBACK, port), 250);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    /**
     * The child: binds {@code args[0]} on loopback (retrying while the old child's port is being
     * released) and serves until killed.
     */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            de.bwaldvogel.mongo.MongoServer server = new de.bwaldvogel.mongo.MongoServer(new MemoryBackend());
            try {
                server.bind(HOST, port);
                break;
            } catch (RuntimeException e) {
                server.shutdownNow();
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
        System.out.println("mongo-java-server listening on " + HOST + ":" + port + " " + List.of(args));
        new CountDownLatch(1).await();
    }
}
