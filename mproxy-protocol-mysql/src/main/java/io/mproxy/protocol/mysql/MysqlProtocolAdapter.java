package io.mproxy.protocol.mysql;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.protocol.mysql.auth.RsaKeys;
import io.mproxy.protocol.mysql.auth.Scrambles;
import io.mproxy.protocol.mysql.codec.Mysql;
import io.mproxy.protocol.mysql.codec.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The MySQL / MariaDB protocol for mproxy: clients log in to the proxy (auth terminated with
 * {@code mysql_native_password} or {@code caching_sha2_password}), the proxy logs in to the
 * backends with the cluster credentials and pools those connections per session or per
 * transaction. Listener and cluster options are documented in docs/mysql.md.
 */
public final class MysqlProtocolAdapter implements ProtocolAdapter {

  static final String DATABASE = "database";
  static final String TLS = "tls";
  static final Set<String> POOL_MODES = Set.of("default", "session", "transaction");

  private final SessionRegistry registry = new SessionRegistry();
  /** Parsed listener options by the options map they came from (built off the event loops). */
  private final Map<Map<String, Object>, ListenerOptions> parsed = new ConcurrentHashMap<>();
  private final Sha2Cache sha2Cache = new Sha2Cache();

  @Override
  public String protocol() {
    return "mysql";
  }

  @Override
  public Set<String> listenerOptionKeys() {
    return new LinkedHashSet<>(ListenerOptions.KEYS);
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return Set.of(DATABASE, TLS);
  }

  @Override
  public List<String> validate(ListenerConfig listener) {
    List<String> problems = new ArrayList<>();
    ListenerOptions options = ListenerOptions.parse(listener, problems);
    if (problems.isEmpty()) {
      if (Scrambles.CACHING_SHA2.equals(options.authPlugin())) {
        RsaKeys.shared();
      }
      parsed.put(listener.options(), options);
    }
    return problems;
  }

  @Override
  public List<String> validate(ClusterConfig cluster) {
    List<String> problems = new ArrayList<>();
    Object db = cluster.options().get(DATABASE);
    if (db != null && (!(db instanceof String s) || s.isEmpty() || s.indexOf('\u0000') >= 0)) {
      problems.add(DATABASE + ": " + db + " (expected: a schema name)");
    }
    io.mproxy.core.tls.BackendTls.parse(cluster.options().get(TLS), problems);
    String mode = cluster.pool().mode();
    if (!POOL_MODES.contains(mode)) {
      problems.add("pool.mode: " + mode + " (expected: session or transaction)");
    }
    return problems;
  }

  static String database(ClusterConfig cluster) {
    Object db = cluster.options().get(DATABASE);
    return db instanceof String s ? s : null;
  }

  /** Transaction pooling unless the cluster says {@code pool.mode: session}. */
  static boolean transactionPooling(ClusterConfig cluster) {
    return !"session".equals(cluster.pool().mode());
  }

  ListenerOptions options(ListenerConfig listener) {
    ListenerOptions o = parsed.get(listener.options());
    if (o == null) {
      o = ListenerOptions.parse(listener, new ArrayList<>());
      parsed.put(listener.options(), o);
    }
    return o;
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    channel.pipeline().addLast("mysql-session", new MysqlSession(listener, this, registry, sha2Cache));
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new MysqlBackendConnector(cluster);
  }

  @Override
  public ByteBuf connectionRefusal(ByteBufAllocator alloc, String message) {
    return Packets.err(alloc, 0, Mysql.ER_CON_COUNT_ERROR, message);
  }
}
