package io.mproxy.server.config;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A protocol adapter for config tests only: it has option keys and checks them, and cannot run.
 * Listener option {@code max_pipeline} (integer >= 1); cluster option {@code database} (0..15).
 */
public final class TestAdapter implements ProtocolAdapter {

  private final String protocol;

  private TestAdapter(String protocol) {
    this.protocol = protocol;
  }

  public static TestAdapter redis() {
    return new TestAdapter("redis");
  }

  public static TestAdapter postgres() {
    return new TestAdapter("postgres");
  }

  @Override
  public String protocol() {
    return protocol;
  }

  @Override
  public Set<String> listenerOptionKeys() {
    return Set.of("max_pipeline");
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return Set.of("database");
  }

  @Override
  public List<String> validate(ListenerConfig listener) {
    List<String> problems = new ArrayList<>();
    Object pipeline = listener.options().get("max_pipeline");
    if (pipeline != null && !(pipeline instanceof Long n && n >= 1)) {
      problems.add("max_pipeline: " + pipeline + " (expected: >= 1)");
    }
    return problems;
  }

  @Override
  public List<String> validate(ClusterConfig cluster) {
    List<String> problems = new ArrayList<>();
    Object db = cluster.options().get("database");
    if (db != null && !(db instanceof Long n && n >= 0 && n <= 15)) {
      problems.add("database: " + db + " (expected: 0..15)");
    }
    return problems;
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    throw new UnsupportedOperationException("config tests only");
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    throw new UnsupportedOperationException("config tests only");
  }
}
