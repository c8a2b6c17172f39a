package io.mproxy.protocol.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay in front of a real server whose server-to-client direction passes only as
 * many bytes as the test allows: with the gate closed, requests reach the server and its replies
 * wait in the relay, so a test can hold a proxy's backend replies back and let them through a
 * known number of bytes at a time. Client-to-server bytes always pass. Open by default.
 */
final class GatedRelay implements AutoCloseable {

  private static final long OPEN = Long.MAX_VALUE;

  private final ServerSocket server;
  private final String targetHost;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Object gate = new Object();
  /** Server-to-client bytes that may still pass (OPEN: no limit). */
  private long allowance = OPEN;
  private volatile boolean closed;

  GatedRelay(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "gated-relay-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Holds every server-to-client byte from now on. */
  void hold() {
    synchronized (gate) {
      allowance = 0;
    }
  }

  /** Lets {@code bytes} more server-to-client bytes through. */
  void allow(long bytes) {
    synchronized (gate) {
      allowance += bytes;
      gate.notifyAll();
    }
  }

  /** Lets everything through from now on. */
  void openGate() {
    synchronized (gate) {
      allowance = OPEN;
      gate.notifyAll();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(targetHost, targetPort);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream, false);
        pump(upstream, client, true);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pump(Socket from, Socket to, boolean gated) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) > 0) {
          int off = 0;
          while (off < n) {
            int pass = gated ? take(n - off) : n - off;
            out.write(buf, off, pass);
            out.flush();
            off += pass;
          }
        }
      } catch (IOException | InterruptedException e) {
        // either side closed: close both below
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, gated ? "gated-relay-down" : "gated-relay-up");
    t.setDaemon(true);
    t.start();
  }

  /** Waits until at least one byte may pass; returns how many of {@code wanted} may. */
  private int take(int wanted) throws InterruptedException {
    synchronized (gate) {
      while (allowance == 0 && !closed) {
        gate.wait(100);
      }
      if (closed) {
        throw new InterruptedException("relay closed");
      }
      if (allowance == OPEN) {
        return wanted;
      }
      int pass = (int) Math.min(wanted, allowance);
      allowance -= pass;
      return pass;
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    synchronized (gate) {
      gate.notifyAll();
    }
    server.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }
}
