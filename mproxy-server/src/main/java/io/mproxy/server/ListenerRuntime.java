package io.mproxy.server;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.admission.TokenBucket;
import io.mproxy.core.auth.AuthFailureLimiter;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.ClientLimits;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.core.time.Clock;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import java.util.concurrent.atomic.AtomicInteger;

/** One bound listener: what its sessions see of the proxy, swapped in place on reload. */
final class ListenerRuntime implements ListenerContext {

  private final ProtocolAdapter adapter;
  private final Gateway gateway;
  private final Clock clock;
  private final Origin origin;
  private final AtomicInteger clients = new AtomicInteger();
  private final ChannelGroup channels;
  private volatile ListenerConfig config;
  private volatile Cluster cluster;
  private volatile Channel serverChannel;
  private final ClientEvents events;
  private final AuthFailureLimiter authFailures;
  /** {@code max_accepts_per_sec} as a token bucket; null when there is no limit. */
  private volatile TokenBucket accepts;

  /** The most source addresses the login throttle remembers per listener. */
  static final int MAX_TRACKED_ADDRESSES = 65_536;

  ListenerRuntime(ListenerConfig config, ProtocolAdapter adapter, Cluster cluster, Gateway gateway,
      Clock clock, ChannelGroup channels, ClientEvents events) {
    this.config = config;
    this.adapter = adapter;
    this.cluster = cluster;
    this.gateway = gateway;
    this.clock = clock;
    this.origin = new Origin(config.name(), config.protocol());
    this.channels = channels;
    this.events = events;
    this.accepts = acceptBucket(null, config.clientLimits(), clock);
    String name = config.name();
    this.authFailures = new AuthFailureLimiter(clock, () -> this.config.clientLimits(), MAX_TRACKED_ADDRESSES,
        new AuthFailureLimiter.Events() {
          @Override
          public void failed() {
            events.authFailed(name);
          }

          @Override
          public void blocked() {
            events.authBlocked(name);
          }
        });
  }

  private static TokenBucket acceptBucket(TokenBucket current, ClientLimits limits, Clock clock) {
    int rate = limits.maxAcceptsPerSec();
    if (rate == 0) {
      return null;
    }
    if (current == null) {
      return new TokenBucket(clock, rate, rate, 0);
    }
    current.configure(rate, rate, 0);
    return current;
  }

  /** Takes one accept from {@code max_accepts_per_sec}; false when over the rate. */
  boolean tryAccept() {
    TokenBucket b = accepts;
    return b == null || b.acquire(1, 0) == TokenBucket.GRANTED;
  }

  /** Counts one more client unless that would pass {@code max}; the caller uncounts it on close. */
  boolean tryTakeSlot(int max) {
    while (true) {
      int n = clients.get();
      if (n >= max) {
        return false;
      }
      if (clients.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  ClientEvents events() {
    return events;
  }

  @Override
  public AuthFailureLimiter authFailures() {
    return authFailures;
  }

  @Override
  public void handshakeCompleted(Channel channel) {
    io.netty.channel.ChannelHandler h = channel.pipeline().get(HandshakeTimeout.NAME);
    if (h != null) {
      channel.pipeline().remove(h);
    }
  }

  @Override
  public ListenerConfig config() {
    return config;
  }

  @Override
  public Origin origin() {
    return origin;
  }

  @Override
  public Gateway gateway() {
    return gateway;
  }

  @Override
  public Cluster cluster() {
    return cluster;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  ProtocolAdapter adapter() {
    return adapter;
  }

  AtomicInteger clientCounter() {
    return clients;
  }

  ChannelGroup clientChannels() {
    return channels;
  }

  synchronized void update(ListenerConfig next, Cluster nextCluster) {
    this.accepts = acceptBucket(accepts, next.clientLimits(), clock);
    this.config = next;
    this.cluster = nextCluster;
  }

  void serverChannel(Channel ch) {
    this.serverChannel = ch;
  }

  Channel serverChannel() {
    return serverChannel;
  }

  /** This listener as the admin API shows it. */
  /**
   * The same object for the runtime's whole life (it reads the runtime's current state): metric
   * rows keyed by it stay registered instead of being replaced on every gauge refresh, which raced
   * with scrapes ("Duplicate labels for metric mproxy_client_connections").
   */
  RuntimeView.ListenerView view() {
    return view;
  }

  private final RuntimeView.ListenerView view = newView();

  private RuntimeView.ListenerView newView() {
    return new RuntimeView.ListenerView() {
      @Override
      public String name() {
        return config.name();
      }

      @Override
      public String protocol() {
        return config.protocol();
      }

      @Override
      public String bind() {
        int port = boundPort();
        return port >= 0 ? config.bind().host() + ":" + port : config.bind().toString();
      }

      @Override
      public String cluster() {
        return cluster.name();
      }

      @Override
      public int clientConnections() {
        return clients.get();
      }
    };
  }

  /** The port actually bound (differs from the config when it asked for port 0). */
  int boundPort() {
    Channel ch = serverChannel;
    return ch != null && ch.localAddress() instanceof java.net.InetSocketAddress a ? a.getPort() : -1;
  }
}
