package io.mproxy.testkit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Starts external server processes that do not outlive the test JVM.
 *
 * <p>A plain child survives its parent when the JVM is killed (a surefire fork timeout, a
 * Ctrl-C'd build). Where util-linux {@code setpriv} exists, the command is started as
 * {@code setpriv --pdeathsig KILL -- command...} (same pid, so {@link Process#destroyForcibly()}
 * still reaches the server), and the kernel kills it when its parent goes away. Linux ties that
 * signal to the thread that forked the child, so every start happens on one long-lived launcher
 * thread rather than on a test thread that may end early. A shutdown hook also kills whatever is
 * still running at an orderly JVM exit.
 */
public final class ChildProcesses {

    private static final Optional<String> SETPRIV = Binaries.find("setpriv").map(Object::toString);
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "mproxy-testkit-process-launcher");
        thread.setDaemon(true);
        return thread;
    });

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcesses::killAll, "mproxy-testkit-process-reaper"));
    }

    private ChildProcesses() {
    }

    /**
     * Starts {@code builder}'s command as a child bound to this JVM's lifetime. The builder's
     * directory, environment and redirects apply; its command list is left as it was.
     */
    public static Process start(ProcessBuilder builder) throws IOException {
        List<String> original = builder.command();
        List<String> command = new ArrayList<>();
        SETPRIV.ifPresent(setpriv -> command.addAll(List.of(setpriv, "--pdeathsig", "KILL", "--")));
        command.addAll(original);
        builder.command(command);
        try {
            Process process = startOnLauncherThread(builder);
            LIVE.add(process);
            process.onExit().thenRun(() -> LIVE.remove(process));
            return process;
        } finally {
            builder.command(original);
        }
    }

    /** Kills {@code process} (SIGKILL) and waits up to {@code timeoutMillis} for it to be gone. */
    public static boolean kill(Process process, long timeoutMillis) {
        process.destroyForcibly();
        try {
            boolean gone = process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS);
            if (gone) {
                LIVE.remove(process);
            }
            return gone;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private static Process startOnLauncherThread(ProcessBuilder builder) throws IOException {
        Future<Process> started = LAUNCHER.submit(builder::start);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return started.get();
                } catch (InterruptedException e) {
                    interrupted = true; // finish starting so that the child is not lost
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException("cannot start " + builder.command(), e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void killAll() {
        for (Process process : LIVE) {
            process.destroyForcibly();
        }
    }
}
