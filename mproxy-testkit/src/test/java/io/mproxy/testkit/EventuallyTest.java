package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventuallyTest {

    @Test
    void returnsOnceTheAssertionPasses() {
        AtomicInteger calls = new AtomicInteger();

        Eventually.assertWithin(Duration.ofSeconds(5), () -> assertTrue(calls.incrementAndGet() >= 3));

        assertEquals(3, calls.get());
    }

    @Test
    void rethrowsTheLastFailureWhenTimeRunsOut() {
        AtomicInteger calls = new AtomicInteger();

        AssertionError error = assertThrows(AssertionError.class, () -> Eventually.assertWithin(
                Duration.ofMillis(50), () -> assertEquals(-1, calls.incrementAndGet())));

        assertTrue(calls.get() >= 2, "tried " + calls.get() + " times");
        assertTrue(error.getMessage().contains("but was: <" + calls.get() + ">"), error.getMessage());
        assertTrue(error.getSuppressed()[0].getMessage().startsWith("still failing after 50 ms"));
    }

    @Test
    void runtimeExceptionsAreRethrownAsThemselves() {
        IllegalStateException thrown = new IllegalStateException("not yet");

        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> Eventually.assertWithin(Duration.ZERO, () -> {
                    throw thrown;
                }));

        assertSame(thrown, error);
    }

    @Test
    void checkedExceptionsAreWrapped() {
        AssertionError error = assertThrows(AssertionError.class,
                () -> Eventually.assertWithin(Duration.ofMillis(10), () -> {
                    throw new IOException("connection refused");
                }));

        assertInstanceOf(IOException.class, error.getCause());
    }
}
