package io.mproxy.protocol.redis;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A blocking RESP client on a plain socket for tests that need exact control of pipelining: it
 * writes commands as RESP arrays and reads each reply back as its raw wire text, so a test can
 * compare the bytes the proxy forwarded with what the server would have sent.
 */
final class RespSocket implements AutoCloseable {

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RespSocket(String host, int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress(host, port), 5_000);
    socket.setSoTimeout(20_000);
    socket.setTcpNoDelay(true);
    in = new BufferedInputStream(socket.getInputStream(), 8192);
    out = socket.getOutputStream();
  }

  /** Encodes commands (each an array of words) back to back and writes them in one call. */
  void send(String[]... commands) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    for (String[] words : commands) {
      buf.writeBytes(encode(words));
    }
    out.write(buf.toByteArray());
    out.flush();
  }

  /** Writes {@code bytes} as they are, {@code chunk} bytes per write call. */
  void sendRaw(byte[] bytes, int chunk) throws IOException {
    for (int i = 0; i < bytes.length; i += chunk) {
      out.write(bytes, i, Math.min(chunk, bytes.length - i));
      out.flush();
    }
  }

  static byte[] encode(String... words) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    buf.writeBytes(("*" + words.length + "\r\n").getBytes(StandardCharsets.UTF_8));
    for (String w : words) {
      byte[] b = w.getBytes(StandardCharsets.UTF_8);
      buf.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.UTF_8));
      buf.writeBytes(b);
      buf.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    return buf.toByteArray();
  }

  /** One complete reply, as the bytes it came in (Latin-1 text). */
  String read() throws IOException {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    readValue(raw);
    return raw.toString(StandardCharsets.ISO_8859_1);
  }

  private void readValue(ByteArrayOutputStream raw) throws IOException {
    String line = readLine(raw);
    char type = line.charAt(0);
    switch (type) {
      case '$': {
        int n = Integer.parseInt(line.substring(1));
        if (n >= 0) {
          raw.writeBytes(in.readNBytes(n + 2));
        }
        return;
      }
      case '*': {
        int n = Integer.parseInt(line.substring(1));
        for (int i = 0; i < n; i++) {
          readValue(raw);
        }
        return;
      }
      default:
        return;
    }
  }

  private String readLine(ByteArrayOutputStream raw) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (;;) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed after '" + sb + "'");
      }
      raw.write(b);
      if (b == '\n' && sb.length() > 0 && sb.charAt(sb.length() - 1) == '\r') {
        return sb.substring(0, sb.length() - 1);
      }
      sb.append((char) b);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
