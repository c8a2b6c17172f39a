package io.mproxy.server.observe;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import java.util.Iterator;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The access log's bounded queue between request threads and the console: an appender that never
 * blocks its caller, hands lines to its attached appenders on one worker thread, and counts the
 * lines it drops when the queue is full ({@code mproxy_access_log_dropped_total}), which Logback's
 * own {@code AsyncAppender} drops silently. Configured in logback.xml as {@code ACCESS_ASYNC}
 * with {@code queueSize}.
 */
public final class AccessLogQueue extends UnsynchronizedAppenderBase<ILoggingEvent>
    implements AppenderAttachable<ILoggingEvent> {

  private static final LongAdder DROPPED = new LongAdder();
  private static final long STOP_FLUSH_MILLIS = 1_000;

  private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
  private int queueSize = 8192;
  private BlockingQueue<ILoggingEvent> queue;
  private Thread worker;

  /** Lines dropped because a queue was full, over all instances since the JVM started. */
  public static long dropped() {
    return DROPPED.sum();
  }

  /** Capacity of the queue, >= 1; set before {@link #start}. */
  public void setQueueSize(int queueSize) {
    this.queueSize = queueSize;
  }

  @Override
  public void start() {
    if (isStarted()) {
      return;
    }
    if (queueSize < 1) {
      addError("queueSize: " + queueSize + " (expected: >= 1)");
      return;
    }
    queue = new ArrayBlockingQueue<>(queueSize);
    worker = new Thread(this::drain, "mproxy-access-log");
    worker.setDaemon(true);
    super.start();
    worker.start();
  }

  @Override
  protected void append(ILoggingEvent event) {
    event.prepareForDeferredProcessing();
    if (!queue.offer(event)) {
      DROPPED.increment();
    }
  }

  private void drain() {
    try {
      while (isStarted() || !queue.isEmpty()) {
        ILoggingEvent e = queue.poll(100, TimeUnit.MILLISECONDS);
        if (e != null) {
          appenders.appendLoopOnAppenders(e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops taking lines, gives the worker a bounded time to write what is queued, then stops. */
  @Override
  public void stop() {
    if (!isStarted()) {
      return;
    }
    super.stop();
    try {
      worker.join(STOP_FLUSH_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    worker.interrupt();
    appenders.detachAndStopAllAppenders();
  }

  /** Lines waiting for the worker (for tests). */
  int queuedForTest() {
    return queue.size();
  }

  @Override
  public void addAppender(Appender<ILoggingEvent> appender) {
    appenders.addAppender(appender);
  }

  @Override
  public Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
    return appenders.iteratorForAppenders();
  }

  @Override
  public Appender<ILoggingEvent> getAppender(String name) {
    return appenders.getAppender(name);
  }

  @Override
  public boolean isAttached(Appender<ILoggingEvent> appender) {
    return appenders.isAttached(appender);
  }

  @Override
  public void detachAndStopAllAppenders() {
    appenders.detachAndStopAllAppenders();
  }

  @Override
  public boolean detachAppender(Appender<ILoggingEvent> appender) {
    return appenders.detachAppender(appender);
  }

  @Override
  public boolean detachAppender(String name) {
    return appenders.detachAppender(name);
  }
}
