package io.mproxy.protocol.redis;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
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
 * backend connections select (default 0); clients that SELECT another db are pinned.
 */
public final class RedisProtocolAdapter implements ProtocolAdapter {

  static final String DATABASE = "database";

  @Override
  public String protocol() {
    return "redis";
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return Set.of(DATABASE);
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
    return problems;
  }

  static int database(ClusterConfig cluster) {
    Object db = cluster.options().get(DATABASE);
    return db instanceof Number n ? n.intValue() : 0;
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    channel.pipeline()
        .addLast("resp-decoder", new RespFrameDecoder(RespFrameDecoder.Mode.REQUEST,
            listener.config().maxFrameBytes()))
        .addLast("redis-session", new RedisSession(listener));
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new RedisBackendConnector(cluster);
  }

  @Override
  public ByteBuf connectionRefusal(ByteBufAllocator alloc, String message) {
    // clients read the first word of an error as its code: "-ERR mproxy: ..."
    return RespWriter.error(alloc.buffer(), message.startsWith("ERR ") ? message : "ERR " + message);
  }
}
