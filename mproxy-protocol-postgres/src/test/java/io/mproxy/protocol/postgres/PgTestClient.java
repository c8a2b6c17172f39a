package io.mproxy.protocol.postgres;

import io.mproxy.core.auth.PostgresMd5;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw PostgreSQL client for the module's tests: logs in with md5, sends simple queries (one at a
 * time or several in one write) and reads their answers up to ReadyForQuery. Every read waits at
 * most 10 s, so a proxy that hangs fails the test instead of hanging it.
 */
final class PgTestClient implements Closeable {

  private static final int TIMEOUT_MILLIS = 10_000;
  private static final int MAX_MESSAGE_BYTES = 1 << 20;

  /** One backend message: its type and its body (without the length). */
  record Message(char type, byte[] body) {
  }

  /**
   * The answer to one simple query: its rows' first columns as text, the server's error (or
   * null), and the transaction status of its ReadyForQuery ({@code I}, {@code T} or {@code E}).
   */
  record Answer(List<String> firstColumns, String error, char status) {
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  private PgTestClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Connects and logs in as {@code user} with md5; throws if the login does not end in ReadyForQuery. */
  static PgTestClient login(int port, String user, String password, String database) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
    socket.setSoTimeout(TIMEOUT_MILLIS);
    socket.setTcpNoDelay(true);
    PgTestClient c = new PgTestClient(socket);
    try {
      c.startup(user, password, database);
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  private void startup(String user, String password, String database) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    cstring(body, "user");
    cstring(body, user);
    cstring(body, "database");
    cstring(body, database);
    body.write(0);
    ByteBuffer b = ByteBuffer.allocate(8 + body.size());
    b.putInt(8 + body.size()).putInt(196608).put(body.toByteArray());
    out.write(b.array());
    out.flush();
    while (true) {
      Message m = read();
      switch (m.type()) {
        case 'R' -> {
          int code = ByteBuffer.wrap(m.body()).getInt();
          if (code == 5) {
            byte[] salt = new byte[4];
            System.arraycopy(m.body(), 4, salt, 0, 4);
            ByteArrayOutputStream pw = new ByteArrayOutputStream();
            cstring(pw, PostgresMd5.response(user, password, salt));
            send('p', pw.toByteArray());
          } else if (code != 0) {
            throw new IOException("unexpected authentication request " + code);
          }
        }
        case 'E' -> throw new IOException("login refused: " + text(m.body()));
        case 'Z' -> {
          return;
        }
        default -> {
          // ParameterStatus, BackendKeyData
        }
      }
    }
  }

  /** Sends one simple query and reads its answer. */
  Answer query(String sql) throws IOException {
    send(new String[] {sql});
    return answer();
  }

  /** Sends simple queries in one write, answers not read. */
  void send(String[] sqls) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (String sql : sqls) {
      ByteArrayOutputStream q = new ByteArrayOutputStream();
      cstring(q, sql);
      frame(all, 'Q', q.toByteArray());
    }
    out.write(all.toByteArray());
    out.flush();
  }

  /**
   * Runs one statement with the extended protocol as libpq's PQsendQueryParams does (pgbench -M
   * extended): Parse of the unnamed statement, Bind, Describe of the portal, Execute and Sync in
   * one write; reads the answer up to its ReadyForQuery.
   */
  Answer extended(String sql) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    ByteArrayOutputStream parse = new ByteArrayOutputStream();
    cstring(parse, "");
    cstring(parse, sql);
    parse.writeBytes(new byte[] {0, 0}); // no parameter types
    frame(all, 'P', parse.toByteArray());
    ByteArrayOutputStream bind = new ByteArrayOutputStream();
    cstring(bind, ""); // portal
    cstring(bind, ""); // statement
    bind.writeBytes(new byte[] {0, 0, 0, 0, 0, 0}); // no formats, no parameters, no result formats
    frame(all, 'B', bind.toByteArray());
    frame(all, 'D', new byte[] {'P', 0});
    frame(all, 'E', new byte[] {0, 0, 0, 0, 0});
    frame(all, 'S', new byte[0]);
    out.write(all.toByteArray());
    out.flush();
    return answer();
  }

  /** A Parse message of statement {@code name} (empty: the unnamed one), no parameter types. */
  static byte[] parse(String name, String sql) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    cstring(body, name);
    cstring(body, sql);
    body.writeBytes(new byte[] {0, 0});
    return framed('P', body.toByteArray());
  }

  /** A Bind of statement {@code name} to the unnamed portal: no parameters, text results. */
  static byte[] bind(String name) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    cstring(body, "");
    cstring(body, name);
    body.writeBytes(new byte[] {0, 0, 0, 0, 0, 0});
    return framed('B', body.toByteArray());
  }

  /** Execute of the unnamed portal, every row. */
  static byte[] execute() {
    return framed('E', new byte[] {0, 0, 0, 0, 0});
  }

  /** Close of the unnamed portal. */
  static byte[] closePortal() {
    return framed('C', new byte[] {'P', 0});
  }

  static byte[] sync() {
    return framed('S', new byte[0]);
  }

  /** Flush: the server sends what it has answered so far, without a ReadyForQuery. */
  static byte[] flush() {
    return framed('H', new byte[0]);
  }

  /** Writes the messages in one write; answers not read. */
  void write(byte[]... messages) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] m : messages) {
      all.writeBytes(m);
    }
    out.write(all.toByteArray());
    out.flush();
  }

  /** Reads messages until the {@code count}th one of {@code type}; returns their types in order. */
  String readThrough(char type, int count) throws IOException {
    StringBuilder types = new StringBuilder();
    int seen = 0;
    while (seen < count) {
      Message m = read();
      types.append(m.type());
      if (m.type() == type) {
        seen++;
      }
    }
    return types.toString();
  }

  /** Reads the answer to the next simple query sent, up to its ReadyForQuery. */
  Answer answer() throws IOException {
    List<String> rows = new ArrayList<>();
    String error = null;
    while (true) {
      Message m = read();
      switch (m.type()) {
        case 'D' -> {
          ByteBuffer b = ByteBuffer.wrap(m.body());
          int columns = b.getShort();
          if (columns > 0) {
            int len = b.getInt();
            rows.add(len < 0 ? null : new String(m.body(), b.position(), len, StandardCharsets.UTF_8));
          }
        }
        case 'E' -> error = text(m.body());
        case 'Z' -> {
          return new Answer(rows, error, (char) m.body()[0]);
        }
        default -> {
          // RowDescription, CommandComplete, notices
        }
      }
    }
  }

  private Message read() throws IOException {
    char type = (char) in.readUnsignedByte();
    int length = in.readInt();
    if (length < 4 || length > MAX_MESSAGE_BYTES) {
      throw new IOException("bad message length " + length + " for type " + type);
    }
    byte[] body = new byte[length - 4];
    in.readFully(body);
    return new Message(type, body);
  }

  private void send(char type, byte[] body) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    frame(b, type, body);
    out.write(b.toByteArray());
    out.flush();
  }

  private static byte[] framed(char type, byte[] body) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    frame(b, type, body);
    return b.toByteArray();
  }

  private static void frame(ByteArrayOutputStream to, char type, byte[] body) {
    to.write(type);
    to.writeBytes(ByteBuffer.allocate(4).putInt(body.length + 4).array());
    to.writeBytes(body);
  }

  private static void cstring(ByteArrayOutputStream to, String s) {
    to.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    to.write(0);
  }

  /** The fields of an ErrorResponse or NoticeResponse, readable. */
  private static String text(byte[] body) {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < body.length && body[i] != 0) {
      char field = (char) body[i++];
      int end = i;
      while (end < body.length && body[end] != 0) {
        end++;
      }
      if (field == 'C' || field == 'M') {
        sb.append(sb.length() == 0 ? "" : " ").append(new String(body, i, end - i, StandardCharsets.UTF_8));
      }
      i = end + 1;
    }
    return sb.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
