package io.mproxy.server.it.floods;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A plain blocking TCP client for flood tests: connects (optionally from a given loopback source
 * address, so one test can be two "clients"), writes bytes, and reads what the proxy sends until
 * it closes. Every read has a timeout, so a proxy that hangs fails the test instead of hanging it.
 */
final class RawSocket implements AutoCloseable {

  static final int TIMEOUT_MILLIS = 10_000;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  static RawSocket open(int port) throws IOException {
    return open(port, null);
  }

  /** @param from the local address to connect from (e.g. {@code 127.0.0.2}), or null */
  static RawSocket open(int port, String from) throws IOException {
    Socket s = new Socket();
    try {
      s.setSoLinger(true, 0);
      if (from != null) {
        s.bind(new InetSocketAddress(from, 0));
      }
      s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
      s.setSoTimeout(TIMEOUT_MILLIS);
      s.setTcpNoDelay(true);
      return new RawSocket(s);
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  void write(String text) throws IOException {
    write(text.getBytes(StandardCharsets.UTF_8));
  }

  /** One line up to CRLF (without it); null at end of stream. */
  String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int prev = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
      }
      if (prev == '\r' && b == '\n') {
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
      }
      line.write(b);
      prev = b;
    }
  }

  /** Exactly {@code n} bytes; fails at end of stream. */
  byte[] readExactly(int n) throws IOException {
    byte[] buf = in.readNBytes(n);
    if (buf.length != n) {
      throw new IOException("end of stream after " + buf.length + " of " + n + " bytes");
    }
    return buf;
  }

  /**
   * Everything until the proxy closes the connection (a reset counts as closed). Fails when the
   * connection is still open after the read timeout: the proxy must close.
   */
  byte[] readToEnd() throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        all.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new IOException("the proxy did not close the connection within " + TIMEOUT_MILLIS
          + " ms; read so far: " + all.toString(StandardCharsets.ISO_8859_1), e);
    } catch (IOException reset) {
      // closed with RST after its last bytes: what was read is the answer
    }
    return all.toByteArray();
  }

  /**
   * Sends {@code bytes} one at a time, {@code pauseMillis} apart, stopping when the proxy has
   * closed the connection (a write fails, or the proxy sent something and end of stream). Returns
   * how many bytes were written.
   */
  int trickle(byte[] bytes, long pauseMillis) throws IOException, InterruptedException {
    for (int i = 0; i < bytes.length; i++) {
      try {
        out.write(bytes[i]);
        out.flush();
      } catch (IOException closed) {
        return i;
      }
      if (closedByPeer()) {
        return i + 1;
      }
      Thread.sleep(pauseMillis);
    }
    return bytes.length;
  }

  /** True when the proxy has sent bytes or closed (peeked without consuming more than is there). */
  private boolean closedByPeer() throws IOException {
    return in.available() > 0 || socket.isInputShutdown();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
