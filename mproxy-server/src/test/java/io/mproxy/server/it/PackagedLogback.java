package io.mproxy.server.it;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import io.mproxy.server.Daemon;
import java.net.URL;
import org.slf4j.LoggerFactory;

/**
 * Tests run with mproxy-testkit's logback-test.xml; this swaps in the logback.xml the daemon
 * ships (the appenders the {@code logging:} section drives) and puts the test file back.
 */
final class PackagedLogback implements AutoCloseable {

  PackagedLogback() {
    configure(Daemon.class.getResource("/logback.xml"));
  }

  @Override
  public void close() {
    configure(Thread.currentThread().getContextClassLoader().getResource("logback-test.xml"));
  }

  private static void configure(URL file) {
    if (file == null) {
      throw new IllegalStateException("logback file not on the class path");
    }
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    JoranConfigurator joran = new JoranConfigurator();
    joran.setContext(context);
    try {
      joran.doConfigure(file);
    } catch (JoranException e) {
      throw new IllegalStateException("cannot configure logback from " + file, e);
    }
  }
}
