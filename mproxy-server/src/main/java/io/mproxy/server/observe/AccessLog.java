package io.mproxy.server.observe;

import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.TenantIdentity;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One line per (sampled) request on its own logger, {@value #LOGGER}, so operators can route,
 * keep or drop it apart from the daemon's log. The fields are SLF4J key-value pairs (text:
 * {@code key="value"}; JSON: the {@code kvpList}); they name who asked and what it cost, never a
 * request's arguments: the fingerprint is the protocol's normalized shape with literals removed.
 */
public final class AccessLog {

  public static final String LOGGER = "mproxy.access";
  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private AccessLog() {
  }

  static boolean enabled() {
    return LOG.isInfoEnabled();
  }

  static void log(Request request, String listener, String protocol, String group, Outcome outcome,
      double ru, long endNanos) {
    TenantIdentity tenant = request.tenant();
    LoggingEventBuilder line = LOG.atInfo().setMessage("request")
        .addKeyValue("listener", listener)
        .addKeyValue("protocol", protocol);
    if (tenant != null) {
      addIfPresent(line, "user", tenant.user());
      addIfPresent(line, "database", tenant.database());
      addIfPresent(line, "application", tenant.application());
    }
    line.addKeyValue("group", group);
    if (request.kind() != null) {
      line.addKeyValue("kind", request.kind().name().toLowerCase(Locale.ROOT));
    }
    addIfPresent(line, "fingerprint", request.fingerprint());
    line.addKeyValue("ru", Math.round(ru * 1000) / 1000.0)
        .addKeyValue("outcome", outcome.label())
        .addKeyValue("duration_us", (endNanos - request.arrivalNanos()) / 1_000)
        .log();
  }

  private static void addIfPresent(LoggingEventBuilder line, String key, String value) {
    if (value != null) {
      line.addKeyValue(key, value);
    }
  }
}
