package io.mproxy.testkit;

import java.time.Duration;
import java.util.Objects;
import org.junit.jupiter.api.function.Executable;

/**
 * Waits for an asynchronous effect by retrying an assertion, instead of sleeping a fixed time.
 *
 * <pre>{@code
 * Eventually.assertWithin(Duration.ofSeconds(5), () -> assertEquals("PONG", client.ping()));
 * }</pre>
 */
public final class Eventually {

    private static final long FIRST_PAUSE_MILLIS = 5;
    private static final long MAX_PAUSE_MILLIS = 100;

    private Eventually() {
    }

    /**
     * Runs {@code assertion} until it completes without throwing, pausing briefly between
     * attempts (5 ms, doubling up to 100 ms). It is always tried at least once, and once more
     * after the deadline. If it still fails, the last failure is rethrown (checked exceptions
     * wrapped in an {@link AssertionError}) with a suppressed note saying how long was waited.
     */
    public static void assertWithin(Duration timeout, Executable assertion) {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(assertion, "assertion");
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = FIRST_PAUSE_MILLIS;
        int attempts = 0;
        while (true) {
            attempts++;
            Throwable failure = attempt(assertion);
            if (failure == null) {
                return;
            }
            long remainingNanos = deadline - System.nanoTime();
            if (remainingNanos <= 0) {
                throw timedOut(failure, timeout, attempts);
            }
            sleep(Math.min(pause, Math.max(1, remainingNanos / 1_000_000)));
            pause = Math.min(pause * 2, MAX_PAUSE_MILLIS);
        }
    }

    private static Throwable attempt(Executable assertion) {
        try {
            assertion.execute();
            return null;
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError fatal) {
                throw fatal;
            }
            return t;
        }
    }

    private static AssertionError timedOut(Throwable last, Duration timeout, int attempts) {
        String note = "still failing after " + timeout.toMillis() + " ms (" + attempts + " attempts)";
        if (last instanceof Error error) {
            error.addSuppressed(new AssertionError(note));
            throw error;
        }
        if (last instanceof RuntimeException runtime) {
            runtime.addSuppressed(new AssertionError(note));
            throw runtime;
        }
        return new AssertionError(note + ": " + last, last);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting", e);
        }
    }
}
