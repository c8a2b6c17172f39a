package io.mproxy.server.it.postgres;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A raw PostgreSQL protocol connection for the few tests where the exact bytes matter (what the
 * proxy answers to an SSLRequest, which authentication it asks for, what it does with malformed
 * input). Every read waits at most 10 s, so a proxy that hangs fails the test instead of hanging it.
 */
final class PgWire implements Closeable {

  static final int PROTOCOL_3_0 = 196608;
  static final int SSL_REQUEST_CODE = 80877103;
  static final int GSSENC_REQUEST_CODE = 80877104;
  /** AuthenticationRequest codes. */
  static final int AUTH_OK = 0;
  static final int AUTH_MD5 = 5;
  static final int AUTH_SASL = 10;

  private static final int READ_TIMEOUT_MILLIS = 10_000;
  private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  private PgWire(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  static PgWire connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(PgClients.HOST, port), READ_TIMEOUT_MILLIS);
    socket.setSoTimeout(READ_TIMEOUT_MILLIS);
    socket.setTcpNoDelay(true);
    return new PgWire(socket);
  }

  /** One backend message: its type byte and its body (without the length). */
  record Message(char type, byte[] body) {

    int int32(int offset) {
      return ByteBuffer.wrap(body, offset, 4).getInt();
    }

    /** The fields of an ErrorResponse or NoticeResponse by code: 'C' SQLSTATE, 'M' message... */
    Map<Character, String> fields() {
      Map<Character, String> fields = new LinkedHashMap<>();
      int i = 0;
      while (i < body.length && body[i] != 0) {
        char code = (char) body[i++];
        int end = i;
        while (end < body.length && body[end] != 0) {
          end++;
        }
        fields.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
        i = end + 1;
      }
      return fields;
    }

    @Override
    public String toString() {
      return type == 'E' || type == 'N' ? type + fields().toString() : type + "(" + body.length + " bytes)";
    }
  }

  /** Sends a protocol 3.0 StartupMessage with {@code user}, {@code database} and any extra parameters. */
  void startup(String user, String database, Map<String, String> extra) throws IOException {
    ByteArrayOutputStream params = new ByteArrayOutputStream();
    writeCString(params, "user");
    writeCString(params, user);
    writeCString(params, "database");
    writeCString(params, database);
    for (Map.Entry<String, String> e : extra.entrySet()) {
      writeCString(params, e.getKey());
      writeCString(params, e.getValue());
    }
    params.write(0);
    ByteBuffer message = ByteBuffer.allocate(8 + params.size());
    message.putInt(8 + params.size()).putInt(PROTOCOL_3_0).put(params.toByteArray());
    send(message.array());
  }

  /** Sends an 8-byte request with {@code code} (SSLRequest, GSSENCRequest) and returns the one-byte answer. */
  int request(int code) throws IOException {
    send(ByteBuffer.allocate(8).putInt(8).putInt(code).array());
    return in.read();
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Sends a typed frontend message: type byte, length, body. */
  void sendMessage(char type, byte[] body) throws IOException {
    send(ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array());
  }

  /** The next message, or empty when the proxy closed the connection. Fails on a 10 s silence. */
  Optional<Message> read() throws IOException {
    int type;
    try {
      type = in.read();
    } catch (SocketException reset) {
      return Optional.empty(); // a reset is a close, for these tests
    }
    if (type < 0) {
      return Optional.empty();
    }
    try {
      int length = in.readInt();
      if (length < 4 || length > MAX_MESSAGE_BYTES) {
        throw new IOException("backend message '" + (char) type + "' with length " + length);
      }
      byte[] body = new byte[length - 4];
      in.readFully(body);
      return Optional.of(new Message((char) type, body));
    } catch (EOFException | SocketException closedMidMessage) {
      return Optional.empty();
    }
  }

  /** Messages up to and including one of type {@code type}; fails if the connection closes first. */
  Message readUntil(char type) throws IOException {
    while (true) {
      Message m = read().orElseThrow(() -> new AssertionError("connection closed before a '" + type + "' message"));
      if (m.type() == type) {
        return m;
      }
      if (m.type() == 'E') {
        throw new AssertionError("ErrorResponse while waiting for '" + type + "': " + m.fields());
      }
    }
  }

  /**
   * Logs in with md5 (the proxy must ask for it): startup, answer AuthenticationMD5Password,
   * then read to ReadyForQuery.
   */
  void loginMd5(String user, String password, String database) throws IOException {
    startup(user, database, Map.of());
    Message auth = readUntil('R');
    if (auth.int32(0) != AUTH_MD5) {
      throw new AssertionError("expected AuthenticationMD5Password, got code " + auth.int32(0));
    }
    byte[] salt = new byte[4];
    System.arraycopy(auth.body(), 4, salt, 0, 4);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    writeCString(body, md5Response(user, password, salt));
    sendMessage('p', body.toByteArray());
    readUntil('Z');
  }

  /** Sends a simple Query and reads to ReadyForQuery, returning the first DataRow's first column. */
  String simpleQuery(String sql) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    writeCString(body, sql);
    sendMessage('Q', body.toByteArray());
    String first = null;
    while (true) {
      Message m = read().orElseThrow(() -> new AssertionError("connection closed during " + sql));
      if (m.type() == 'D' && first == null) {
        int length = m.int32(2);
        first = length < 0 ? null : new String(m.body(), 6, length, StandardCharsets.UTF_8);
      } else if (m.type() == 'E') {
        throw new AssertionError("error from " + sql + ": " + m.fields());
      } else if (m.type() == 'Z') {
        return first;
      }
    }
  }

  /**
   * What the proxy does next, within 10 s: an ErrorResponse, or a close (empty); anything else is
   * returned as well so the test can say what it got.
   */
  Optional<Message> readErrorOrClose() throws IOException {
    return read();
  }

  static String md5Response(String user, String password, byte[] salt) {
    String inner = md5Hex((password + user).getBytes(StandardCharsets.UTF_8));
    byte[] innerBytes = inner.getBytes(StandardCharsets.US_ASCII);
    byte[] salted = new byte[innerBytes.length + salt.length];
    System.arraycopy(innerBytes, 0, salted, 0, innerBytes.length);
    System.arraycopy(salt, 0, salted, innerBytes.length, salt.length);
    return "md5" + md5Hex(salted);
  }

  private static String md5Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static void writeCString(ByteArrayOutputStream out, String s) {
    out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    out.write(0);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
