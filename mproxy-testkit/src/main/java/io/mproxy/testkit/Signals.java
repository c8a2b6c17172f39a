package io.mproxy.testkit;

import java.time.Duration;
import java.util.List;

/**
 * POSIX signals to a process by pid, through {@code kill(1)}: the JDK sends only SIGTERM and
 * SIGKILL ({@link Process#destroy()}, {@link Process#destroyForcibly()}). Tests use SIGSTOP /
 * SIGCONT to freeze a real backend with requests in flight (the kernel still accepts bytes for
 * it, nothing answers) and SIGTERM to ask a child daemon to drain.
 */
public final class Signals {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private Signals() {
    }

    /** Freezes {@code pid} (SIGSTOP): its sockets stay open and nothing is answered. */
    public static void stop(long pid) {
        send(pid, "STOP");
    }

    /** Resumes a frozen {@code pid} (SIGCONT). */
    public static void resume(long pid) {
        send(pid, "CONT");
    }

    /** SIGTERM: what init systems send to stop a daemon. */
    public static void terminate(long pid) {
        send(pid, "TERM");
    }

    /** Sends {@code SIG<name>} (e.g. {@code "STOP"}) and fails loudly if {@code kill} does. */
    public static void send(long pid, String name) {
        ExternalCommand.run(List.of(Binaries.require("kill", "procps").toString(), "-s", name, Long.toString(pid)), TIMEOUT)
                .requireSuccess();
    }
}
