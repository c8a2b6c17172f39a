package io.mproxy.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The access log's queue drops and counts what does not fit while the console is stuck, never
 * blocks the caller, and delivers everything it accepted once the console moves again.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AccessLogQueueTest {

  @Test
  void aFullQueueDropsAndCountsEveryLineThatDoesNotFit() throws Exception {
    LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    CountDownLatch consoleStuck = new CountDownLatch(1);
    List<String> written = new CopyOnWriteArrayList<>();
    AppenderBase<ILoggingEvent> console = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        try {
          consoleStuck.await();
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
        written.add(e.getFormattedMessage());
      }
    };
    console.setContext(context);
    console.setName("ACCESS");
    console.start();
    AccessLogQueue queue = new AccessLogQueue();
    queue.setContext(context);
    queue.setQueueSize(4);
    queue.addAppender(console);
    queue.start();
    long droppedBefore = AccessLogQueue.dropped();

    queue.doAppend(event(context, "line 0"));
    for (int i = 0; i < 500 && queue.queuedForTest() > 0; i++) {
      Thread.sleep(10);
    }
    assertEquals(0, queue.queuedForTest(), "the worker took the first line and is stuck writing it");
    for (int i = 1; i <= 14; i++) {
      queue.doAppend(event(context, "line " + i));
    }

    assertEquals(10, AccessLogQueue.dropped() - droppedBefore, "4 queued, 10 dropped");
    consoleStuck.countDown();
    queue.stop();
    assertEquals(List.of("line 0", "line 1", "line 2", "line 3", "line 4"), written);
    assertTrue(!queue.isStarted());
  }

  private static ILoggingEvent event(LoggerContext context, String message) {
    return new LoggingEvent(AccessLogQueueTest.class.getName(), context.getLogger(AccessLog.LOGGER), Level.INFO,
        message, null, null);
  }
}
