package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

class NettyLeakCheckTest {

    /** Lets the nested leaking classes leak only when run from here, never by a stray runner. */
    static volatile boolean armed;

    @BeforeEach
    void requireParanoidLevel() {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "the tests run with leak detection at paranoid (overridden by -D" + LeakRecorder.LEVEL_PROPERTY + "?)");
    }

    @Test
    void hooksByteBufLeakDetection() {
        assertTrue(LeakRecorder.byteBufLeaksTracked());
    }

    @Test
    void onlyALeakAllocatedInsideScalecubesEncoderIsLetThrough() {
        String scalecube = "\nRecent access records: \n#1:\n\tio.netty.buffer.AdvancedLeakAwareByteBuf.writeBytes"
                + "\nCreated at:\n\tio.netty.buffer.AbstractByteBufAllocator.buffer(AbstractByteBufAllocator.java:124)"
                + "\n\tio.scalecube.transport.netty.TransportImpl.encodeMessage(TransportImpl.java:281)";
        assertTrue(LeakRecorder.isKnownThirdPartyLeak(scalecube));
        String ours = "\nRecent access records: \n#1:\n\tio.scalecube.transport.netty.TransportImpl.encodeMessage"
                + "\nCreated at:\n\tio.netty.buffer.AbstractByteBufAllocator.buffer(AbstractByteBufAllocator.java:124)"
                + "\n\tio.mproxy.gossip.FleetNode.round(FleetNode.java:210)";
        assertEquals(false, LeakRecorder.isKnownThirdPartyLeak(ours), "allocated by mproxy: still a failure");
        assertEquals(false, LeakRecorder.isKnownThirdPartyLeak(null));
    }

    @Test
    void detectsAnUnreleasedUnpooledBuffer() {
        String marker = "deliberate-leak-" + UUID.randomUUID();
        leakUnpooled(marker);

        assertLeakReported(marker);
    }

    @Test
    void detectsAnUnreleasedPooledBuffer() {
        String marker = "deliberate-leak-" + UUID.randomUUID();
        leakPooled(marker);

        assertLeakReported(marker);
    }

    @Test
    void reportsNothingWhenEveryBufferIsReleased() {
        ByteBuf buffer = Unpooled.buffer(16).writeInt(42);
        buffer.touch("released-" + UUID.randomUUID());
        buffer.release();

        assertEquals(List.of(), NettyLeakCheck.collectLeaks());
    }

    @Test
    void failsTheTestThatLeaks() {
        armed = true;
        try {
            Events tests = run(LeakingTest.class).testEvents();

            tests.assertStatistics(stats -> stats.started(1).failed(1));
            Throwable failure = firstFailure(tests);
            assertTrue(failure instanceof AssertionError, String.valueOf(failure));
            assertTrue(failure.getMessage().contains("during LeakingTest > leaks()"), failure.getMessage());
            assertTrue(failure.getMessage().contains(LeakingTest.MARKER), failure.getMessage());
        } finally {
            armed = false;
        }
    }

    @Test
    void failsTheClassWhoseFixtureLeaksOnTeardown() {
        armed = true;
        try {
            EngineExecutionResults results = run(LeakingFixtureTest.class);

            results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1));
            Events containers = results.containerEvents();
            containers.assertStatistics(stats -> stats.failed(1));
            assertTrue(containers.failed().list().get(0).getTestDescriptor().getDisplayName()
                    .endsWith(LeakingFixtureTest.class.getSimpleName()));
            Throwable failure = firstFailure(containers);
            assertTrue(failure.getMessage().contains("after all tests of LeakingFixtureTest"), failure.getMessage());
            assertTrue(failure.getMessage().contains(LeakingFixtureTest.MARKER), failure.getMessage());
        } finally {
            armed = false;
        }
    }

    private static EngineExecutionResults run(Class<?> testClass) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .selectors(selectClass(testClass))
                .execute();
    }

    private static Throwable firstFailure(Events events) {
        return events.failed().list().get(0)
                .getRequiredPayload(TestExecutionResult.class)
                .getThrowable().orElseThrow();
    }

    /** Leaks with a hint so that this test's leak is told apart from any other. */
    private static void leakUnpooled(String marker) {
        ByteBuf buffer = Unpooled.directBuffer(32).writeLong(7);
        buffer.touch(marker);
    }

    private static void leakPooled(String marker) {
        ByteBuf buffer = PooledByteBufAllocator.DEFAULT.heapBuffer(32).writeLong(7);
        buffer.touch(marker);
    }

    /** GC is not deterministic, so collect until the marked leak shows up (a few rounds at most). */
    private static void assertLeakReported(String marker) {
        List<String> leaks = new ArrayList<>();
        Eventually.assertWithin(Duration.ofSeconds(10), () -> {
            leaks.addAll(NettyLeakCheck.collectLeaks());
            assertTrue(leaks.stream().anyMatch(leak -> leak.contains(marker)), "no leak record with " + marker);
        });
        assertTrue(leaks.stream().allMatch(leak -> leak.startsWith("LEAK: ByteBuf.release()")), leaks::toString);
    }

    /** Run only through {@link #failsTheTestThatLeaks}; surefire skips nested classes. */
    static class LeakingTest {

        static final String MARKER = "leaking-test-" + UUID.randomUUID();

        @Test
        void leaks() {
            if (armed) { // only when run by NettyLeakCheckTest
                leakUnpooled(MARKER);
            }
        }
    }

    /** A class-wide fixture dropped without release: reported by the after-all check. */
    static class LeakingFixtureTest {

        static final String MARKER = "leaking-fixture-" + UUID.randomUUID();
        static ByteBuf fixture;

        @BeforeAll
        static void allocate() {
            fixture = Unpooled.directBuffer(16);
            if (armed) { // only leaks when run by NettyLeakCheckTest
                fixture.touch(MARKER);
            } else {
                fixture.release();
            }
        }

        @Test
        void usesTheFixture() {
            assertEquals(16, fixture.capacity());
        }

        @AfterAll
        static void forgetToRelease() {
            fixture = null;
        }
    }
}
