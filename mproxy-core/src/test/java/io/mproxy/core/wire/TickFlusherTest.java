package io.mproxy.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.util.concurrent.DefaultEventExecutor;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TickFlusherTest {

  private final DefaultEventExecutor loop = new DefaultEventExecutor();
  private final List<String> ran = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
  }

  @Test
  void tasksOfOneTickRunAfterTheCurrentTaskAsOneQueuedTask() throws Exception {
    CountDownLatch done = new CountDownLatch(3);
    int queued = loop.submit(() -> {
      TickFlusher.later(loop, () -> { ran.add("a"); done.countDown(); });
      TickFlusher.later(loop, () -> { ran.add("b"); done.countDown(); });
      TickFlusher.later(loop, () -> { ran.add("c"); done.countDown(); });
      ran.add("current task ends");
      return loop.pendingTasks();
    }).get(5, TimeUnit.SECONDS);
    assertEquals(true, done.await(5, TimeUnit.SECONDS));
    assertEquals(1, queued, "three flushes of one tick must queue one task on the loop");
    assertEquals(List.of("current task ends", "a", "b", "c"), ran);
  }

  @Test
  void aTaskAskedForWhileTheBatchRunsRunsInTheNextBatch() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    loop.execute(() -> TickFlusher.later(loop, () -> {
      ran.add("first");
      TickFlusher.later(loop, () -> { ran.add("second"); done.countDown(); });
    }));
    assertEquals(true, done.await(5, TimeUnit.SECONDS));
    assertEquals(List.of("first", "second"), ran);
  }

  @Test
  void aFailingTaskDoesNotStopTheOthers() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    loop.execute(() -> {
      TickFlusher.later(loop, () -> { throw new IllegalStateException("boom (expected by the test)"); });
      TickFlusher.later(loop, () -> { ran.add("after the failure"); done.countDown(); });
    });
    assertEquals(true, done.await(5, TimeUnit.SECONDS));
    assertEquals(List.of("after the failure"), ran);
    // and the flusher keeps working for the next tick
    CountDownLatch again = new CountDownLatch(1);
    loop.execute(() -> TickFlusher.later(loop, again::countDown));
    assertEquals(true, again.await(5, TimeUnit.SECONDS));
  }

  @Test
  void fromOutsideTheLoopTheTaskIsStillRunOnTheLoop() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    TickFlusher.later(loop, () -> {
      if (loop.inEventLoop()) {
        done.countDown();
      }
    });
    assertEquals(true, done.await(5, TimeUnit.SECONDS));
  }
}
