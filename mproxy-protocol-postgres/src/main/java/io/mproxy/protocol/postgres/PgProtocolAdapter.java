package io.mproxy.protocol.postgres;

import io.mproxy.core.auth.ScramCredential;
import io.mproxy.core.auth.ScramDecoys;
import io.mproxy.core.auth.SecureRandomSource;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlShapes;
import io.mproxy.core.time.RandomSource;
import io.mproxy.protocol.postgres.codec.PgFrameDecoder;
import io.mproxy.protocol.postgres.codec.PgMessages;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The PostgreSQL protocol for mproxy: client sessions ({@link PgSession}) with authentication
 * terminated at the proxy and session or transaction pooling, backend connections
 * ({@link PgBackendConnector}). Also owns what spans sessions: the cancel-key registry, per-user
 * connection counts, and the parsed options of each listener and cluster.
 */
public final class PgProtocolAdapter implements ProtocolAdapter {

  /** Proxy-made process ids sit above any real Linux pid, so they never collide with backend pids. */
  private static final int PROXY_PID_BASE = 1 << 23;

  private final RandomSource random;
  private final ScramDecoys decoys;
  private final Map<String, ScramCredential> derived = PgClientAuth.newCache();
  private final SqlShapes sqlShapes = new SqlShapes(SqlDialect.POSTGRES, 10_000);
  private final Map<Integer, Registered> sessions = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> perUser = new ConcurrentHashMap<>();
  private final Map<String, Cached<ListenerConfig, PgListenerOptions>> listenerOptions = new ConcurrentHashMap<>();
  private final Map<String, Cached<ClusterConfig, ClusterState>> clusterStates = new ConcurrentHashMap<>();

  private record Registered(PgSession session, int secret) {
  }

  private record Cached<K, V>(K key, V value) {
  }

  /** What sessions need of a cluster beyond its config record. */
  record ClusterState(PgClusterOptions options) {
  }

  public PgProtocolAdapter() {
    this(new SecureRandomSource());
  }

  PgProtocolAdapter(RandomSource random) {
    this.random = random;
    this.decoys = new ScramDecoys(random);
  }

  @Override
  public String protocol() {
    return "postgres";
  }

  @Override
  public Set<String> listenerOptionKeys() {
    return PgListenerOptions.KEYS;
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return PgClusterOptions.KEYS;
  }

  @Override
  public List<String> validate(ListenerConfig listener) {
    List<String> problems = new ArrayList<>();
    PgListenerOptions.read(listener, problems);
    for (AuthConfig.UserConfig u : listener.auth().users()) {
      if (u.scramVerifier() != null) {
        try {
          ScramCredential.parsePostgresVerifier(u.scramVerifier());
        } catch (IllegalArgumentException e) {
          problems.add("auth.users." + u.name() + ".scram_verifier: " + e.getMessage());
        }
      }
    }
    return problems;
  }

  @Override
  public List<String> validate(ClusterConfig cluster) {
    List<String> problems = new ArrayList<>();
    PgClusterOptions.read(cluster, problems);
    String mode = cluster.pool().mode();
    if (!"session".equalsIgnoreCase(mode) && !"transaction".equalsIgnoreCase(mode)
        && !"default".equalsIgnoreCase(mode)) {
      problems.add("pool.mode: '" + mode + "' is not one of session, transaction");
    }
    return problems;
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    channel.pipeline()
        .addLast("pg-decoder", PgFrameDecoder.forClient(listener.config().maxFrameBytes()))
        .addLast("pg-session", new PgSession(listener, this));
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new PgBackendConnector(cluster, PgClusterOptions.of(cluster), random);
  }

  @Override
  public ByteBuf connectionRefusal(ByteBufAllocator alloc, String message) {
    return PgMessages.error(alloc, "FATAL", "53300", message);
  }

  // ------------------------------------------------------------------ for sessions

  PgListenerOptions listenerOptions(ListenerConfig config) {
    Cached<ListenerConfig, PgListenerOptions> c = listenerOptions.get(config.name());
    if (c != null && c.key() == config) {
      return c.value();
    }
    PgListenerOptions o = PgListenerOptions.of(config);
    listenerOptions.put(config.name(), new Cached<>(config, o));
    return o;
  }

  ClusterState clusterState(Cluster cluster) {
    ClusterConfig config = cluster.config();
    Cached<ClusterConfig, ClusterState> c = clusterStates.get(cluster.name());
    if (c != null && c.key() == config) {
      return c.value();
    }
    ClusterState s = new ClusterState(PgClusterOptions.of(config));
    clusterStates.put(cluster.name(), new Cached<>(config, s));
    return s;
  }

  static PgClientAuth.Secret secretOf(AuthConfig.UserConfig u) {
    ScramCredential scram = u.scramVerifier() == null ? null : ScramCredential.parsePostgresVerifier(u.scramVerifier());
    String pw = u.password();
    if (pw != null && pw.startsWith("md5") && pw.length() == 35) {
      return new PgClientAuth.Secret(null, scram, pw);
    }
    return new PgClientAuth.Secret(pw, scram, null);
  }

  PgClientAuth newAuth(String user, PgClientAuth.Secret secret, PgListenerOptions.AuthMethod method) {
    return new PgClientAuth(user, secret, method, random, decoys, derived);
  }

  /** Counts a logged-in client of {@code user}; false (not counted) when over {@code max} (0: no limit). */
  boolean countUser(String listener, String user, int max) {
    AtomicInteger n = perUser.computeIfAbsent(listener + '\0' + user, k -> new AtomicInteger());
    int now = n.incrementAndGet();
    if (max > 0 && now > max) {
      n.decrementAndGet();
      return false;
    }
    return true;
  }

  void uncountUser(String listener, String user) {
    AtomicInteger n = perUser.get(listener + '\0' + user);
    if (n != null) {
      n.decrementAndGet();
    }
  }

  /** Gives a session its cancel key (process id, secret), unique among live sessions. */
  int[] register(PgSession session) {
    for (;;) {
      int pid = PROXY_PID_BASE + random.nextInt(Integer.MAX_VALUE - PROXY_PID_BASE);
      int secret = random.nextInt(Integer.MAX_VALUE);
      if (sessions.putIfAbsent(pid, new Registered(session, secret)) == null) {
        return new int[] {pid, secret};
      }
    }
  }

  /** Registers a session under its backend's real key; null if another live session holds that pid. */
  int[] registerAs(PgSession session, int pid, int secret) {
    return sessions.putIfAbsent(pid, new Registered(session, secret)) == null ? new int[] {pid, secret} : null;
  }

  void unregister(int pid, PgSession session) {
    Registered r = sessions.get(pid);
    if (r != null && r.session() == session) {
      sessions.remove(pid, r);
    }
  }

  /** A CancelRequest: cancels what the session with this key is running, if the secret matches. */
  void cancel(int pid, int secret) {
    Registered r = sessions.get(pid);
    if (r != null && r.secret() == secret) {
      r.session().cancelFromClient();
    }
  }

  /** Opens a passthrough client's own (unpooled) server connection, on the client's event loop. */
  void connectPassthrough(Channel client, io.mproxy.core.balance.Backend target,
      ChannelFutureListener done) {
    new Bootstrap()
        .group(client.eventLoop())
        .channel(client.getClass().asSubclass(SocketChannel.class))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline()
                .addLast("pg-decoder", PgFrameDecoder.forBackend(PgBackendConnector.MAX_BACKEND_MESSAGE_BYTES))
                .addLast("pg-backend", new PgBackend());
          }
        })
        .connect(target.config().address().host(), target.config().address().port())
        .addListener(done);
  }

  /** Opens a short connection to the backend behind {@code backendChannel} and sends a CancelRequest. */
  void sendCancel(Channel backendChannel, int pid, int secret) {
    new Bootstrap()
        .group(backendChannel.eventLoop())
        .channel(backendChannel.getClass().asSubclass(SocketChannel.class))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
          }
        })
        .connect(backendChannel.remoteAddress())
        .addListener((ChannelFutureListener) f -> {
          if (f.isSuccess()) {
            f.channel().writeAndFlush(PgMessages.cancelRequest(f.channel().alloc(), pid, secret))
                .addListener(ChannelFutureListener.CLOSE);
          }
        });
  }

  /** Statement shapes of every session of this protocol (classification and fingerprint). */
  SqlShapes sqlShapes() {
    return sqlShapes;
  }
}
