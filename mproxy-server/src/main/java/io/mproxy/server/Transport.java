package io.mproxy.server;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The Netty I/O transport the daemon runs on ({@code server.transport}), chosen in this one place
 * so that the event loops, the listeners' server channels, the backend connections and the admin
 * server always agree: a channel of one transport cannot register on another's event loop.
 *
 * <p>Why it is a setting: on loopback most of a request's CPU is the kernel side of its socket
 * calls, and io_uring batches them into fewer system calls than epoll. Native transports load a
 * library at run time and may be missing or refused by the kernel; asking for one that is not
 * there is an error naming Netty's cause, never a silent fallback. Only {@code auto} falls back.
 */
public enum Transport {
  EPOLL("epoll", EpollIoHandler.class),
  IO_URING("io_uring", IoUringIoHandler.class),
  NIO("nio", NioIoHandler.class);

  /** The word {@code server.transport} takes to let the daemon pick (epoll when it loads, else NIO). */
  public static final String AUTO = io.mproxy.core.config.ServerSettings.AUTO_TRANSPORT;
  /** Every value {@code server.transport} accepts, in the order the docs list them. */
  public static final List<String> SETTINGS = List.of(AUTO, "epoll", "io_uring", "nio");

  private final String setting;
  private final Class<? extends IoHandler> handlerType;

  Transport(String setting, Class<? extends IoHandler> handlerType) {
    this.setting = setting;
    this.handlerType = handlerType;
  }

  /** The name as written in the config, shown in {@code /api/status} and the start-up log. */
  public String setting() {
    return setting;
  }

  /** Why this transport cannot run in this process (Netty's own cause); empty when it can. */
  public Optional<Throwable> unavailabilityCause() {
    return switch (this) {
      case EPOLL -> Epoll.isAvailable() ? Optional.empty() : Optional.of(Epoll.unavailabilityCause());
      case IO_URING -> IoUring.isAvailable() ? Optional.empty() : Optional.of(IoUring.unavailabilityCause());
      case NIO -> Optional.empty();
    };
  }

  /** The event loops' I/O handler. */
  public IoHandlerFactory ioHandlerFactory() {
    return switch (this) {
      case EPOLL -> EpollIoHandler.newFactory();
      case IO_URING -> IoUringIoHandler.newFactory();
      case NIO -> NioIoHandler.newFactory();
    };
  }

  /** The listening socket's channel type. */
  public Class<? extends ServerChannel> serverChannel() {
    return switch (this) {
      case EPOLL -> EpollServerSocketChannel.class;
      case IO_URING -> IoUringServerSocketChannel.class;
      case NIO -> NioServerSocketChannel.class;
    };
  }

  /** The outgoing (backend) socket's channel type. */
  public Class<? extends SocketChannel> socketChannel() {
    return switch (this) {
      case EPOLL -> EpollSocketChannel.class;
      case IO_URING -> IoUringSocketChannel.class;
      case NIO -> NioSocketChannel.class;
    };
  }

  /** The transport a value of {@link #SETTINGS} names; {@code auto} is not a transport (see {@link #select}). */
  public static Optional<Transport> named(String setting) {
    for (Transport t : values()) {
      if (t.setting.equalsIgnoreCase(setting)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /**
   * Resolves a {@code server.transport} value against this process: {@code auto} is epoll when
   * it loads, else NIO; a named transport must be available.
   *
   * @throws IllegalArgumentException naming the value and, for an unavailable transport, Netty's cause
   */
  public static Transport select(String setting) {
    return select(setting, Transport::unavailabilityCause);
  }

  /** As {@link #select(String)}, with availability asked of {@code availability} (tests inject it). */
  public static Transport select(String setting, Function<Transport, Optional<Throwable>> availability) {
    if (AUTO.equalsIgnoreCase(setting)) {
      return availability.apply(EPOLL).isEmpty() ? EPOLL : NIO;
    }
    Transport t = named(setting).orElseThrow(() -> new IllegalArgumentException(
        "transport '" + setting + "' is unknown (expected one of: " + String.join(", ", SETTINGS) + ")"));
    Optional<Throwable> cause = availability.apply(t);
    if (cause.isPresent()) {
      throw new IllegalArgumentException(unavailable(t, cause.get()));
    }
    return t;
  }

  /** The message for a transport that was asked for and cannot run here. */
  public static String unavailable(Transport t, Throwable cause) {
    return "transport " + t.setting + " is not available in this process: " + describe(cause)
        + " (use transport: auto, or nio)";
  }

  private static String describe(Throwable cause) {
    StringBuilder out = new StringBuilder(cause.toString());
    Throwable inner = cause.getCause();
    for (int depth = 0; inner != null && depth < 3; depth++, inner = inner.getCause()) {
      out.append("; caused by ").append(inner);
    }
    return out.toString();
  }

  /**
   * The transport {@code group}'s event loops run, so that a server bound on a group someone
   * else built (the admin server on the daemon's loops) uses the matching channel type.
   *
   * @throws IllegalArgumentException for a group of none of these transports
   */
  public static Transport of(EventLoopGroup group) {
    if (group instanceof IoEventLoopGroup io) {
      for (Transport t : values()) {
        if (io.isIoType(t.handlerType)) {
          return t;
        }
      }
    }
    throw new IllegalArgumentException("event loop group " + group.getClass().getName()
        + " runs none of the transports " + String.join(", ", SETTINGS.subList(1, SETTINGS.size())));
  }

  @Override
  public String toString() {
    return setting;
  }
}
