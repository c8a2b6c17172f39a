package io.mproxy.server.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.AppenderAttachable;
import io.mproxy.server.config.ObservabilityConfig.LogFormat;
import io.mproxy.server.config.ObservabilityConfig.Logging;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Applies the {@code logging:} section to Logback at start and on every reload: the format of
 * the packaged console appenders ({@code STDERR} on the root logger, {@code ACCESS} behind the
 * access logger's queue) and the level of {@code io.mproxy}. Appenders the packaged logback.xml
 * does not name are never touched, so an operator's own Logback file keeps working. Does
 * nothing when SLF4J is not bound to Logback.
 */
public final class LogSetup {

  static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{20} - %msg%n";
  static final String ACCESS_TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} access %kvp%n";

  private LogSetup() {
  }

  /** Switches format and level; a no-op for another SLF4J binding. */
  public static synchronized void apply(Logging logging) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return;
    }
    context.getLogger("io.mproxy").setLevel(Level.toLevel(logging.level().name(), Level.INFO));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    reencode(context, root.getAppender("STDERR"), logging.format(), TEXT_PATTERN, false);
    Appender<ILoggingEvent> access = findAccessConsole(context);
    reencode(context, access, logging.format(), ACCESS_TEXT_PATTERN, true);
  }

  @SuppressWarnings("unchecked")
  private static Appender<ILoggingEvent> findAccessConsole(LoggerContext context) {
    Appender<ILoggingEvent> async = context.getLogger(AccessLog.LOGGER).getAppender("ACCESS_ASYNC");
    if (async instanceof AppenderAttachable<?> a) {
      return ((AppenderAttachable<ILoggingEvent>) a).getAppender("ACCESS");
    }
    return null;
  }

  /**
   * Sends {@code java.util.logging} records (the OpenTelemetry SDK and the JDK's HTTP client log
   * there) to SLF4J, so they follow {@code logging.format} like every other line instead of
   * going to JUL's own console handler in its own format. Idempotent.
   */
  public static synchronized void routeJavaUtilLogging() {
    if (SLF4JBridgeHandler.isInstalled()) {
      return;
    }
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }

  /**
   * Gives an {@link OutputStreamAppender} a new encoder of the wanted format when it has the
   * other one; restarting it is safe for console targets (closing them closes nothing).
   */
  private static void reencode(LoggerContext context, Appender<ILoggingEvent> appender, LogFormat format,
      String pattern, boolean access) {
    if (!(appender instanceof OutputStreamAppender<ILoggingEvent> out)) {
      return;
    }
    boolean isJson = out.getEncoder() instanceof JsonEncoder;
    if (isJson == (format == LogFormat.JSON)) {
      return;
    }
    Encoder<ILoggingEvent> encoder = format == LogFormat.JSON ? json(context, access) : text(context, pattern);
    out.stop();
    out.setEncoder(encoder);
    out.start();
  }

  private static Encoder<ILoggingEvent> text(LoggerContext context, String pattern) {
    PatternLayoutEncoder e = new PatternLayoutEncoder();
    e.setContext(context);
    e.setPattern(pattern);
    e.start();
    return e;
  }

  /**
   * One JSON object per line. The access log's fields are its key-value pairs; other lines carry
   * the formatted message (arguments already substituted) and the throwable.
   */
  private static Encoder<ILoggingEvent> json(LoggerContext context, boolean access) {
    JsonEncoder e = new JsonEncoder();
    e.setContext(context);
    e.setWithSequenceNumber(false);
    e.setWithNanoseconds(false);
    e.setWithContext(false);
    e.setWithMarkers(false);
    e.setWithMessage(false);
    e.setWithArguments(false);
    e.setWithFormattedMessage(!access);
    e.setWithThreadName(!access);
    e.setWithMDC(!access);
    e.setWithThrowable(!access);
    e.start();
    return e;
  }
}
