package io.mproxy.server.it.cassandra;

import io.mproxy.testkit.CqlProbe;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A protocol v4 connection made of hand-built frames, for what a driver would never send. */
final class RawCql implements AutoCloseable {

  static final int QUERY = 0x07;
  static final int RESULT = 0x08;
  static final int PREPARE = 0x09;
  static final int EXECUTE = 0x0A;

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;

  RawCql(int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    socket.setSoTimeout(30_000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
  }

  /** STARTUP and, when asked, SASL PLAIN; fails unless the login succeeds. */
  RawCql login(String user, String password) throws IOException {
    send(CqlProbe.frame(4, 0, CqlProbe.OPCODE_STARTUP, CqlProbe.stringMap("CQL_VERSION", "3.0.0")));
    CqlProbe.Frame f = read();
    if (f.opcode() == CqlProbe.OPCODE_AUTHENTICATE) {
      send(CqlProbe.frame(4, 0, CqlProbe.OPCODE_AUTH_RESPONSE, CqlProbe.bytes(CqlProbe.plainToken(user, password))));
      f = read();
      if (f.opcode() != CqlProbe.OPCODE_AUTH_SUCCESS) {
        throw new IllegalStateException("login failed: opcode " + f.opcode());
      }
    } else if (f.opcode() != CqlProbe.OPCODE_READY) {
      throw new IllegalStateException("STARTUP failed: opcode " + f.opcode());
    }
    return this;
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  CqlProbe.Frame read() throws IOException {
    return CqlProbe.read(in);
  }

  /** True when the peer closed the connection (EOF) within the read timeout. */
  boolean closedByPeer() throws IOException {
    try {
      return in.read() < 0;
    } catch (EOFException e) {
      return true;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  /** A QUERY with consistency ONE and no values. */
  static byte[] query(int stream, String cql) {
    byte[] q = cql.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(4 + q.length + 3).putInt(q.length).put(q).putShort((short) 1).put((byte) 0);
    return CqlProbe.frame(4, stream, QUERY, b.array());
  }

  static byte[] prepare(int stream, String cql) {
    byte[] q = cql.getBytes(StandardCharsets.UTF_8);
    return CqlProbe.frame(4, stream, PREPARE, ByteBuffer.allocate(4 + q.length).putInt(q.length).put(q).array());
  }

  /** EXECUTE of {@code id} with one int value. */
  static byte[] executeInt(int stream, byte[] id, int value) {
    ByteBuffer b = ByteBuffer.allocate(2 + id.length + 2 + 1 + 2 + 4 + 4);
    b.putShort((short) id.length).put(id).putShort((short) 1).put((byte) 0x01).putShort((short) 1).putInt(4).putInt(value);
    return CqlProbe.frame(4, stream, EXECUTE, b.array());
  }

  /** The prepared id of a RESULT Prepared body. */
  static byte[] preparedId(CqlProbe.Frame f) {
    ByteBuffer b = ByteBuffer.wrap(f.body());
    if (b.getInt() != 4) {
      throw new IllegalStateException("not a Prepared result");
    }
    byte[] id = new byte[b.getShort() & 0xFFFF];
    b.get(id);
    return id;
  }

  /** The RESULT kind (1 void, 2 rows, 3 set keyspace, 4 prepared, 5 schema change). */
  static int resultKind(CqlProbe.Frame f) {
    return ByteBuffer.wrap(f.body()).getInt();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
