package io.mproxy.server.it;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A bare RESP client over a blocking socket: exactly the bytes a test means, no client library
 * in between. Cheap enough to open hundreds, and able to send malformed input. Reads replies as
 * Java values: simple and bulk strings as {@link String}, errors as {@link RespError}, integers
 * as {@link Long}, arrays, sets and pushes as {@link List} (pushes wrapped in {@link Push}),
 * maps as {@link Map}, nulls (RESP2 and RESP3) as {@code null}.
 *
 * <p>Reads time out after 10 s by default, so a missing reply fails a test instead of hanging it.
 */
final class RespConnection implements AutoCloseable {

  static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);
  private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

  /** An error reply; {@code message} is the text after {@code '-'}. */
  record RespError(String message) {
    boolean startsWith(String prefix) {
      return message.startsWith(prefix);
    }
  }

  /** A RESP3 push frame (pub/sub messages when the connection speaks RESP3). */
  record Push(List<Object> items) {
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RespConnection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
    this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
  }

  static RespConnection open(String host, int port) throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
      socket.setSoTimeout((int) DEFAULT_READ_TIMEOUT.toMillis());
      return new RespConnection(socket);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** Sends one command and reads its reply. */
  Object call(String... args) throws IOException {
    send(args);
    return read();
  }

  /** Sends one command now. */
  void send(String... args) throws IOException {
    write(args);
    flush();
  }

  /** Buffers one command (pipelining); {@link #flush()} sends what was buffered. */
  void write(String... args) throws IOException {
    out.write(encode(args));
  }

  void writeRaw(byte[] bytes) throws IOException {
    out.write(bytes);
  }

  void flush() throws IOException {
    out.flush();
  }

  static byte[] encode(String... args) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(16 + args.length * 16);
    writeAscii(b, "*" + args.length + "\r\n");
    for (String a : args) {
      byte[] bytes = a.getBytes(StandardCharsets.UTF_8);
      writeAscii(b, "$" + bytes.length + "\r\n");
      b.write(bytes, 0, bytes.length);
      writeAscii(b, "\r\n");
    }
    return b.toByteArray();
  }

  void readTimeout(Duration timeout) throws SocketException {
    socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
  }

  /** Reads one reply (attributes are skipped). */
  Object read() throws IOException {
    int type = in.read();
    if (type < 0) {
      throw new EOFException("connection closed by the proxy");
    }
    String line = line();
    switch (type) {
      case '+':
        return line;
      case '-':
        return new RespError(line);
      case ':':
        return Long.parseLong(line);
      case '(':
        return new BigInteger(line);
      case ',':
        return Double.parseDouble(line);
      case '#':
        return "t".equals(line);
      case '_':
        return null;
      case '$':
      case '=':
      case '!': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        byte[] payload = in.readNBytes(n);
        if (payload.length < n || in.read() != '\r' || in.read() != '\n') {
          throw new EOFException("truncated bulk string");
        }
        String s = new String(payload, StandardCharsets.UTF_8);
        return type == '!' ? new RespError(s) : s;
      }
      case '*':
      case '~':
      case '>': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        List<Object> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          items.add(read());
        }
        return type == '>' ? new Push(items) : items;
      }
      case '%': {
        int n = Integer.parseInt(line);
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
          map.put(read(), read());
        }
        return map;
      }
      case '|': {
        int n = Integer.parseInt(line);
        for (int i = 0; i < 2 * n; i++) {
          read();
        }
        return read();
      }
      default:
        throw new IOException("unexpected RESP type byte '" + (char) type + "' followed by: " + line);
    }
  }

  /** Reads {@code n} replies. */
  List<Object> read(int n) throws IOException {
    List<Object> replies = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      replies.add(read());
    }
    return replies;
  }

  /** The first line the peer sends, raw (type byte included, CRLF stripped); null at end of stream. */
  String readRawLine() throws IOException {
    int first = in.read();
    if (first < 0) {
      return null;
    }
    return (char) first + line();
  }

  /**
   * Whether the peer closes the connection within {@code timeout}: reads (and drops) whatever
   * still arrives until the end of the stream. A reset counts as closed.
   */
  boolean closedByPeerWithin(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException reset) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(32);
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed in the middle of a reply line");
      }
      if (c == '\r') {
        int lf = in.read();
        if (lf != '\n') {
          throw new IOException("CR not followed by LF");
        }
        return b.toString(StandardCharsets.UTF_8);
      }
      b.write(c);
    }
  }

  private static void writeAscii(ByteArrayOutputStream b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
    b.write(bytes, 0, bytes.length);
  }
}
