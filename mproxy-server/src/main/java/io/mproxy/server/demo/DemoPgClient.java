package io.mproxy.server.demo;

import io.mproxy.core.auth.PostgresMd5;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal blocking PostgreSQL client (protocol 3.0, simple query, cleartext or md5 password)
 * for the demo's workload.
 *
 * <p>Why not pgjdbc: the demo's backend is H2's PG server, which reports server version 8.2.23;
 * pgjdbc then sends {@code SET extra_float_digits = 2}, which H2 rejects, so pgjdbc cannot log in
 * to it with or without mproxy in between. This client sends only what the demo's queries need.
 * Every read is bounded by the socket timeout and every message by {@link #MAX_MESSAGE_BYTES}.
 */
public final class DemoPgClient implements AutoCloseable {

  /** Largest backend message accepted; the demo's replies are a few kilobytes. */
  static final int MAX_MESSAGE_BYTES = 1 << 20;
  private static final int PROTOCOL_3 = 196_608;

  /** What one query ended with. */
  public record Result(boolean ok, int rows, String error) {
  }

  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;

  private DemoPgClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
  }

  /**
   * Connects and logs in; throws {@link IOException} carrying the server's message when the
   * login is refused.
   */
  public static DemoPgClient connect(String host, int port, String user, String password, String database,
      String application, int timeoutMillis) throws IOException {
    Socket socket = new Socket();
    boolean ok = false;
    try {
      socket.connect(new InetSocketAddress(host, port), timeoutMillis);
      socket.setSoTimeout(timeoutMillis);
      socket.setTcpNoDelay(true);
      DemoPgClient c = new DemoPgClient(socket);
      c.startup(user, password, database, application);
      ok = true;
      return c;
    } finally {
      if (!ok) {
        socket.close();
      }
    }
  }

  private void startup(String user, String password, String database, String application) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    DataOutputStream b = new DataOutputStream(body);
    b.writeInt(PROTOCOL_3);
    cstring(b, "user");
    cstring(b, user);
    cstring(b, "database");
    cstring(b, database);
    cstring(b, "application_name");
    cstring(b, application);
    b.writeByte(0);
    out.writeInt(body.size() + 4);
    body.writeTo(out);
    out.flush();
    while (true) {
      int type = in.readUnsignedByte();
      byte[] msg = message();
      switch (type) {
        case 'R' -> authenticate(msg, user, password);
        case 'E' -> throw new IOException(errorMessage(msg)); // a refused login: the server closes
        case 'Z' -> {
          return;
        }
        default -> {
          // ParameterStatus, BackendKeyData, notices: nothing the demo needs
        }
      }
    }
  }

  private void authenticate(byte[] msg, String user, String password) throws IOException {
    int code = int32(msg, 0);
    switch (code) {
      case 0 -> {
        // AuthenticationOk
      }
      case 3 -> password(password);
      case 5 -> {
        byte[] salt = new byte[] {msg[4], msg[5], msg[6], msg[7]};
        password(PostgresMd5.response(user, password, salt));
      }
      default -> throw new IOException("server asks for authentication method " + code
          + "; the demo client speaks only cleartext and md5");
    }
  }

  private void password(String secret) throws IOException {
    byte[] s = secret.getBytes(StandardCharsets.UTF_8);
    out.writeByte('p');
    out.writeInt(4 + s.length + 1);
    out.write(s);
    out.writeByte(0);
    out.flush();
  }

  /** Runs one statement with the simple query protocol and reads its whole answer. */
  public Result query(String sql) throws IOException {
    byte[] s = sql.getBytes(StandardCharsets.UTF_8);
    out.writeByte('Q');
    out.writeInt(4 + s.length + 1);
    out.write(s);
    out.writeByte(0);
    out.flush();
    int rows = 0;
    String error = null;
    while (true) {
      int type = in.readUnsignedByte();
      byte[] msg = message();
      switch (type) {
        case 'D' -> rows++;
        case 'E' -> error = errorMessage(msg);
        case 'Z' -> {
          return error == null ? new Result(true, rows, null) : new Result(false, rows, error);
        }
        default -> {
          // RowDescription, CommandComplete, notices
        }
      }
    }
  }

  private byte[] message() throws IOException {
    int len = in.readInt();
    if (len < 4 || len - 4 > MAX_MESSAGE_BYTES) {
      throw new IOException("backend message length " + len + " out of range");
    }
    byte[] b = new byte[len - 4];
    in.readFully(b);
    return b;
  }

  /** The 'M' (message) field of an ErrorResponse, with its SQLSTATE. */
  static String errorMessage(byte[] msg) {
    String text = null;
    String code = null;
    int i = 0;
    while (i < msg.length && msg[i] != 0) {
      byte field = msg[i++];
      int end = i;
      while (end < msg.length && msg[end] != 0) {
        end++;
      }
      String value = new String(msg, i, end - i, StandardCharsets.UTF_8);
      if (field == 'M') {
        text = value;
      } else if (field == 'C') {
        code = value;
      }
      i = end + 1;
    }
    String m = text == null ? "error without message" : text;
    return code == null ? m : m + " (SQLSTATE " + code + ")";
  }

  private static int int32(byte[] b, int at) throws EOFException {
    if (b.length < at + 4) {
      throw new EOFException("short authentication message");
    }
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  private static void cstring(DataOutputStream b, String s) throws IOException {
    b.write(s.getBytes(StandardCharsets.UTF_8));
    b.writeByte(0);
  }

  @Override
  public void close() {
    try {
      out.writeByte('X');
      out.writeInt(4);
      out.flush();
    } catch (IOException ignored) {
      // closing anyway
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing left to release
    }
  }
}
