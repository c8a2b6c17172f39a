package io.mproxy.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command-line tool (psql, pgbench, openssl, pg_ctl...) to completion with a bounded wait,
 * so that tests can drive real clients and server tools the way an operator would.
 *
 * <p>Standard output and error go to temporary files rather than pipes, so a chatty tool can
 * never block on a full pipe; both are returned whole. The child is started through
 * {@link ChildProcesses}, so it dies with the JVM, and is killed when the timeout passes.
 */
public final class ExternalCommand {

    private static final long KILL_WAIT_MILLIS = 10_000;

    private ExternalCommand() {
    }

    /** What a finished command printed and how it exited. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        public boolean succeeded() {
            return exitCode == 0;
        }

        /** This result if the exit code is 0; otherwise an exception naming the command and stderr. */
        public Result requireSuccess() {
            if (succeeded()) {
                return this;
            }
            throw new IllegalStateException(describe());
        }

        /** The command, its exit code and both outputs, for failure messages. */
        public String describe() {
            return command + " exited " + exitCode + System.lineSeparator()
                    + "stderr: " + stderr.strip() + System.lineSeparator()
                    + "stdout: " + abbreviate(stdout.strip());
        }
    }

    /** {@link #run(List, Map, String, Duration)} with no extra environment and no input. */
    public static Result run(List<String> command, Duration timeout) {
        return run(command, Map.of(), null, timeout);
    }

    /**
     * Runs {@code command} with {@code environment} added to this JVM's environment and
     * {@code stdin} (UTF-8; {@code null} for none) as its input, and waits for it to exit.
     *
     * @throws IllegalStateException if it does not finish within {@code timeout} (it is killed)
     * @throws UncheckedIOException if it cannot be started
     */
    public static Result run(List<String> command, Map<String, String> environment, String stdin,
            Duration timeout) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(timeout, "timeout");
        Path in = null;
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("mproxy-cmd-", ".out");
            err = Files.createTempFile("mproxy-cmd-", ".err");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().putAll(environment);
            if (stdin == null) {
                builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            } else {
                in = Files.createTempFile("mproxy-cmd-", ".in");
                Files.writeString(in, stdin, StandardCharsets.UTF_8);
                builder.redirectInput(in.toFile());
            }
            Process process = ChildProcesses.start(builder);
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                ChildProcesses.kill(process, KILL_WAIT_MILLIS);
                throw new IllegalStateException(command + " did not finish within " + timeout.toMillis()
                        + " ms and was killed; stderr so far: " + read(err).strip()
                        + "; stdout so far: " + abbreviate(read(out).strip()));
            }
            return new Result(List.copyOf(command), process.exitValue(), read(out), read(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } finally {
            deleteQuietly(in);
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** Lenient: a tool may print bytes that are not UTF-8; they become U+FFFD, not an exception. */
    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static String abbreviate(String text) {
        int max = 4000;
        return text.length() <= max ? text : text.substring(0, max) + "... (" + text.length() + " chars)";
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
}
