package io.mproxy.protocol.redis;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.core.tls.ImplicitTls;
import io.mproxy.core.tls.ServerTls;
import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.mproxy.protocol.redis.codec.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The Redis protocol (RESP2 and RESP3) for mproxy. Cluster option {@code database}: the db index
 * backend connections select (default 0); clients that SELECT another db are pinned. Listener
 * option {@code tls: { cert, key }} and cluster option {@code tls: { mode, ca }} give implicit TLS
 * (TLS from the first byte, as {@code redis-server --tls-port} speaks it) with the same reloadable
 * contexts as the other protocols.
 */
public final class RedisProtocolAdapter implements ProtocolAdapter {

  static final String DATABASE = "database";
  static final String TLS = "tls";

  /** Parsed listener TLS by the options map it came from (read off the event loops, in validate). */
  private final ImplicitTls implicitTls = new ImplicitTls("Redis");

  @Override
  public String protocol() {
    return "redis";
  }

  @Override
  public Set<String> listenerOptionKeys() {
    return Set.of(TLS, io.mproxy.core.request.QueryTimeout.KEY);
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return Set.of(DATABASE, TLS);
  }

  @Override
  public List<String> validate(ListenerConfig listener) {
    List<String> problems = new ArrayList<>();
    io.mproxy.core.request.QueryTimeout.parse(listener.options(), problems);
    implicitTls.validateListener(listener.options(), listener.options().get(TLS), problems);
    return problems;
  }

  @Override
  public List<String> validate(ClusterConfig cluster) {
    List<String> problems = new ArrayList<>();
    Object db = cluster.options().get(DATABASE);
    if (db != null) {
      if (!(db instanceof Number n) || n.longValue() < 0 || n.longValue() > 65535
          || n.doubleValue() != Math.rint(n.doubleValue())) {
        problems.add(DATABASE + ": " + db + " (expected: an integer 0..65535)");
      }
    }
    implicitTls.cluster(cluster.options().get(TLS), problems);
    return problems;
  }

  /** The listener's TLS, or null. */
  ServerTls serverTls(ListenerConfig listener) {
    return implicitTls.listener(listener.options(), listener.options().get(TLS));
  }

  static int database(ClusterConfig cluster) {
    Object db = cluster.options().get(DATABASE);
    return db instanceof Number n ? n.intValue() : 0;
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    ServerTls tls = serverTls(listener.config());
    if (tls != null) {
      // implicit TLS: the newest context from the files, so rotated certificates reach new handshakes
      channel.pipeline().addLast("tls", tls.context().newHandler(channel.alloc()));
    }
    RedisSession session = new RedisSession(listener);
    channel.pipeline()
        .addLast("resp-decoder", RespFrameDecoder.borrowingCommands(listener.config().maxFrameBytes(), session))
        .addLast("redis-session", session);
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new RedisBackendConnector(cluster);
  }

  /** On a TLS listener the refusal goes inside TLS (written once the client's handshake is done). */
  @Override
  public void refuseClientChannel(Channel channel, ListenerContext listener, String message) {
    ServerTls tls = serverTls(listener.config());
    if (tls != null) {
      channel.pipeline().addFirst("tls", tls.context().newHandler(channel.alloc()));
    }
    ProtocolAdapter.super.refuseClientChannel(channel, listener, message);
  }

  @Override
  public ByteBuf connectionRefusal(ByteBufAllocator alloc, String message) {
    // clients read the first word of an error as its code: "-ERR mproxy: ..."
    return RespWriter.error(alloc.buffer(), message.startsWith("ERR ") ? message : "ERR " + message);
  }
}
