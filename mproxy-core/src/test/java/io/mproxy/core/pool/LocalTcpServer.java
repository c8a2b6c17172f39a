package io.mproxy.core.pool;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny real TCP server on 127.0.0.1 for pool tests: accepts connections, counts them, reads
 * and discards what clients send, and notices when they hang up. {@link #close()} takes it
 * down the way a crashed backend goes: listener and every connection closed.
 */
final class LocalTcpServer implements AutoCloseable {

  private final ServerSocket listener;
  private final AtomicInteger accepted = new AtomicInteger();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;

  LocalTcpServer() throws IOException {
    this(0);
  }

  /** Listens on {@code port} (0: any free one), e.g. to bring a stopped backend back on its port. */
  LocalTcpServer(int port) throws IOException {
    listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
    acceptor = new Thread(this::acceptLoop, "local-tcp-server-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Connections accepted since start. */
  int accepted() {
    return accepted.get();
  }

  /** Connections accepted and not yet closed by the client. */
  int open() {
    return open.size();
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        return;
      }
      open.add(s);
      accepted.incrementAndGet();
      Thread reader = new Thread(() -> drain(s), "local-tcp-conn-" + s.getPort());
      reader.setDaemon(true);
      reader.start();
    }
  }

  private void drain(Socket s) {
    byte[] buf = new byte[1024];
    try (s; InputStream in = s.getInputStream()) {
      while (in.read(buf) >= 0) {
        // discard
      }
    } catch (IOException e) {
      // closed by close() or reset by the peer: either way it is gone
    } finally {
      open.remove(s);
    }
  }

  @Override
  public void close() throws Exception {
    listener.close();
    acceptor.join(5_000); // a socket accepted just now is in the set before the loop ends
    for (Socket s : open) {
      s.close();
    }
  }
}
