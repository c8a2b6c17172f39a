package io.mproxy.testkit;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails any test during which Netty reports a leaked {@code ByteBuf} (or any other resource
 * Netty tracks).
 *
 * <p>Registered through JUnit's extension auto-detection ({@code META-INF/services} plus
 * {@code junit-platform.properties} in this jar), so every test class in a module that depends on
 * the testkit gets it without annotations. Loading the extension installs a recording
 * {@code ResourceLeakDetectorFactory} and sets the leak level to PARANOID (an explicit
 * {@code -Dio.netty.leakDetection.level} wins). After each test and after each class it forces
 * garbage collection, makes Netty report what was collected unreleased, and fails with the leak
 * records, which name where the buffer was created and last touched. The after-each GC is
 * skipped when Netty tracked no new object during the test (so pure-logic tests stay fast); the
 * after-all check always runs it.
 *
 * <p>A leak is reported once the leaked buffer has become unreachable, so it fails the test in
 * which that happened: usually the test that leaked, but a buffer held by a class-wide fixture
 * is reported when the fixture lets go of it, at the latest in the class's after-all check.
 * Netty reports an identical record (same stack) only once per JVM. Tests must not run in
 * parallel for attribution to be exact.
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    static {
        LeakRecorder.install();
    }

    /** Instantiated by JUnit; installing happens when the class loads. */
    public NettyLeakCheck() {
    }

    /**
     * Forces GC, makes Netty report leaks collected so far, and returns the records, clearing
     * them so that the after-each check does not report them again. For tests of the detector.
     */
    public static List<String> collectLeaks() {
        return LeakRecorder.collect();
    }

    /** Throws an {@link AssertionError} carrying the records if any leak was reported. */
    public static void assertNoLeaks() {
        failIfAny(LeakRecorder.collect(), "");
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!LeakRecorder.byteBufLeaksTracked()) {
            throw new ExtensionConfigurationException("NettyLeakCheck could not hook ByteBuf leak"
                    + " detection: a Netty buffer was allocated before the extension loaded (for"
                    + " example in a static initializer outside a test class). Leaks would go unnoticed.");
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        failIfAny(LeakRecorder.collectIfTracked(), " during " + describe(context));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        failIfAny(LeakRecorder.collect(), " after all tests of " + describe(context));
    }

    private static String describe(ExtensionContext context) {
        return context.getTestClass()
                .map(type -> type.getSimpleName() + (context.getTestMethod().isPresent()
                        ? " > " + context.getDisplayName() : ""))
                .orElse(context.getDisplayName());
    }

    private static void failIfAny(List<String> leaks, String where) {
        if (leaks.isEmpty()) {
            return;
        }
        StringBuilder message = new StringBuilder()
                .append(leaks.size())
                .append(leaks.size() == 1 ? " Netty resource leak" : " Netty resource leaks")
                .append(" reported")
                .append(where)
                .append(':');
        for (String leak : leaks) {
            message.append(System.lineSeparator()).append(leak);
        }
        throw new AssertionError(message.toString());
    }
}
