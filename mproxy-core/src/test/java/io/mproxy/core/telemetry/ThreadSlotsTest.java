package io.mproxy.core.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ThreadSlotsTest {

  private final SlottedThreadFactory factory = new SlottedThreadFactory(ThreadSlotsTest.class);

  @Test
  void aSlottedThreadKeepsItsSlotInItsOwnField() throws Exception {
    AtomicInteger first = new AtomicInteger(-2);
    AtomicInteger second = new AtomicInteger(-2);
    AtomicInteger field = new AtomicInteger(-2);
    AtomicInteger fieldBefore = new AtomicInteger(-2);
    runToEnd(factory.newThread(() -> {
      SlottedThreadFactory.Slotted self = (SlottedThreadFactory.Slotted) Thread.currentThread();
      fieldBefore.set(self.slot);
      first.set(ThreadSlots.current());
      second.set(ThreadSlots.current());
      field.set(self.slot);
    }));
    assertEquals(-1, fieldBefore.get(), "no slot before the first use");
    assertTrue(first.get() >= 0);
    assertEquals(first.get(), second.get());
    assertEquals(first.get(), field.get(), "the slot handed out is the one kept in the field");
  }

  @Test
  void slottedAndPlainThreadsAliveTogetherNeverShareASlot() throws Exception {
    CountDownLatch allHaveSlots = new CountDownLatch(4);
    CountDownLatch release = new CountDownLatch(1);
    int[] slots = new int[4];
    Thread[] threads = new Thread[4];
    for (int i = 0; i < threads.length; i++) {
      int index = i;
      Runnable body = () -> {
        slots[index] = ThreadSlots.current();
        allHaveSlots.countDown();
        await(release);
      };
      threads[i] = i % 2 == 0 ? factory.newThread(body) : new Thread(body);
      threads[i].start();
    }
    assertTrue(allHaveSlots.await(10, TimeUnit.SECONDS));
    release.countDown();
    for (Thread t : threads) {
      t.join(10_000);
    }
    assertEquals(slots.length, Arrays.stream(slots).distinct().count(), Arrays.toString(slots));
  }

  @Test
  void aSlotFreedByADeadSlottedThreadIsContinuedByTheNextWithNothingLost() throws Exception {
    PerThread<AtomicLong> counts = new PerThread<>(AtomicLong::new);
    AtomicInteger firstSlot = new AtomicInteger();
    runToEnd(factory.newThread(() -> {
      firstSlot.set(ThreadSlots.current());
      counts.get().addAndGet(5);
    }));
    AtomicReference<Integer> laterSlot = new AtomicReference<>();
    runToEnd(factory.newThread(() -> {
      laterSlot.set(ThreadSlots.current());
      counts.get().addAndGet(7);
    }));
    assertTrue(laterSlot.get() < ThreadSlots.count());
    assertEquals(12, counts.sum(AtomicLong::get), "the later thread continues, or has its own, accumulator; none is lost");
  }

  @Test
  void threadsAreNamedAndPrioritisedAsNettysEventLoopFactoryMakesThem() {
    Thread t = factory.newThread(() -> { });
    assertInstanceOf(SlottedThreadFactory.Slotted.class, t);
    assertEquals(Thread.MAX_PRIORITY, t.getPriority(), "as MultithreadEventLoopGroup's own factory");
    assertTrue(t.getName().startsWith(DefaultThreadFactory.toPoolName(ThreadSlotsTest.class) + "-"), t.getName());
  }

  private static void runToEnd(Thread t) throws InterruptedException {
    t.start();
    t.join(10_000);
    assertFalse(t.isAlive());
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
