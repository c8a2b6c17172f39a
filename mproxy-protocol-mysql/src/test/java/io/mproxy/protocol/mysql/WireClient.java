package io.mproxy.protocol.mysql;

import io.mproxy.protocol.mysql.auth.Scrambles;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A byte-level MySQL client for the forward-path tests: it logs in with mysql_native_password
 * (protocol 4.1, EOF packets, no metadata caching), then writes commands as raw packets (several
 * in one write when asked) and reads the answers packet by packet, with a read timeout so that an
 * answer the proxy never sends fails the test instead of hanging it.
 */
final class WireClient implements AutoCloseable {

  /** One packet as read: sequence id and payload. */
  record Packet(int seq, byte[] payload) {
    int header() {
      return payload.length == 0 ? -1 : payload[0] & 0xFF;
    }

    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  WireClient(int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(20_000);
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** Reads the greeting and logs in. */
  WireClient login(String user, String password) throws IOException {
    writePackets(handshakeResponse(read().payload(), user, password));
    Packet ok = read();
    if (ok.header() != 0) {
      throw new IOException("login refused: " + ok.text());
    }
    return this;
  }

  /** The HandshakeResponse (a wire packet, sequence id 1) to the greeting payload {@code g}. */
  static byte[] handshakeResponse(byte[] g, String user, String password) {
    int at = 1;
    while (g[at] != 0) {
      at++;
    }
    at++;
    byte[] nonce = new byte[20];
    System.arraycopy(g, at + 4, nonce, 0, 8);
    int part2 = at + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    System.arraycopy(g, part2, nonce, 8, 12);
    byte[] proof = Scrambles.nativeProof(password, nonce);
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    int caps = 0x200 | 0x8000 | 0x80000 | 0x2000 | 0x1;
    p.writeBytes(new byte[] {(byte) caps, (byte) (caps >> 8), (byte) (caps >> 16), (byte) (caps >> 24)});
    p.writeBytes(new byte[] {0, 0, 0, 1, 45});
    p.writeBytes(new byte[23]);
    p.writeBytes(user.getBytes(StandardCharsets.UTF_8));
    p.write(0);
    p.write(proof.length);
    p.writeBytes(proof);
    p.writeBytes("mysql_native_password".getBytes(StandardCharsets.US_ASCII));
    p.write(0);
    return packet(1, p.toByteArray());
  }

  /** One wire packet (header and payload). */
  static byte[] packet(int seq, byte[] payload) {
    byte[] b = new byte[4 + payload.length];
    b[0] = (byte) payload.length;
    b[1] = (byte) (payload.length >> 8);
    b[2] = (byte) (payload.length >> 16);
    b[3] = (byte) seq;
    System.arraycopy(payload, 0, b, 4, payload.length);
    return b;
  }

  /** A COM_QUERY packet of {@code sql}. */
  static byte[] query(String sql) {
    byte[] s = sql.getBytes(StandardCharsets.UTF_8);
    byte[] p = new byte[s.length + 1];
    p[0] = 0x03;
    System.arraycopy(s, 0, p, 1, s.length);
    return packet(0, p);
  }

  /** A COM_STMT_EXECUTE packet of statement {@code id} without parameters. */
  static byte[] execute(long id) {
    byte[] p = {0x17, (byte) id, (byte) (id >> 8), (byte) (id >> 16), (byte) (id >> 24), 0, 1, 0, 0, 0};
    return packet(0, p);
  }


  /** Writes the packets given in one write. */
  void writePackets(byte[]... packets) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] p : packets) {
      all.writeBytes(p);
    }
    out.write(all.toByteArray());
    out.flush();
  }

  Packet read() throws IOException {
    int b0 = in.readUnsignedByte();
    int b1 = in.readUnsignedByte();
    int b2 = in.readUnsignedByte();
    int seq = in.readUnsignedByte();
    byte[] payload = new byte[b0 | b1 << 8 | b2 << 16];
    in.readFully(payload);
    return new Packet(seq, payload);
  }

  /** Reads an answer that must be an OK; fails with the ERR's text otherwise. */
  void readOk(String what) throws IOException {
    Packet p = read();
    if (p.header() != 0x00) {
      throw new AssertionError(what + ": expected OK, got " + p.text());
    }
  }

  /**
   * Reads a result set (text or binary) to its end; returns the rows' payloads. Fails on an ERR.
   */
  List<byte[]> readResultSet(String what) throws IOException {
    Packet count = read();
    if (count.header() == 0xFF || count.header() == 0x00) {
      throw new AssertionError(what + ": expected a result set, got " + count.text());
    }
    int columns = count.header();
    for (int i = 0; i < columns; i++) {
      read();
    }
    if (read().header() != 0xFE) {
      throw new AssertionError(what + ": no EOF after the column definitions");
    }
    List<byte[]> rows = new ArrayList<>();
    while (true) {
      Packet row = read();
      if (row.header() == 0xFE && row.payload().length < 9) {
        return rows;
      }
      if (row.header() == 0xFF) {
        throw new AssertionError(what + ": error in the rows: " + row.text());
      }
      rows.add(row.payload());
    }
  }

  /** Prepares {@code sql}; returns the statement id the proxy gave it. */
  long prepare(String sql) throws IOException {
    byte[] s = sql.getBytes(StandardCharsets.UTF_8);
    byte[] p = new byte[s.length + 1];
    p[0] = 0x16;
    System.arraycopy(s, 0, p, 1, s.length);
    writePackets(packet(0, p));
    Packet ok = read();
    if (ok.header() != 0x00) {
      throw new AssertionError("prepare " + sql + ": " + ok.text());
    }
    byte[] b = ok.payload();
    long id = (b[1] & 0xFFL) | (b[2] & 0xFFL) << 8 | (b[3] & 0xFFL) << 16 | (b[4] & 0xFFL) << 24;
    int columns = (b[5] & 0xFF) | (b[6] & 0xFF) << 8;
    int params = (b[7] & 0xFF) | (b[8] & 0xFF) << 8;
    if (params > 0) {
      for (int i = 0; i < params; i++) {
        read();
      }
      read();
    }
    if (columns > 0) {
      for (int i = 0; i < columns; i++) {
        read();
      }
      read();
    }
    return id;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
