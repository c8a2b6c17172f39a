package io.mproxy.server;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.cluster.Cluster;
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

  ListenerRuntime(ListenerConfig config, ProtocolAdapter adapter, Cluster cluster, Gateway gateway,
      Clock clock, ChannelGroup channels) {
    this.config = config;
    this.adapter = adapter;
    this.cluster = cluster;
    this.gateway = gateway;
    this.clock = clock;
    this.origin = new Origin(config.name(), config.protocol());
    this.channels = channels;
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

  void update(ListenerConfig next, Cluster nextCluster) {
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
  RuntimeView.ListenerView view() {
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
