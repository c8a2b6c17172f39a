package io.mproxy.server.it.mysql;

import io.mproxy.protocol.mysql.auth.Scrambles;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A byte-level MySQL client for tests that must send what no connector sends: it logs in with
 * mysql_native_password, then writes raw packets and reads raw answers.
 */
final class RawMysqlClient implements AutoCloseable {

  /** One packet as read: sequence id and payload. */
  record Packet(int seq, byte[] payload) {
    int header() {
      return payload.length == 0 ? -1 : payload[0] & 0xFF;
    }

    int errorCode() {
      return header() == 0xFF ? (payload[1] & 0xFF) | (payload[2] & 0xFF) << 8 : -1;
    }

    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  RawMysqlClient(int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** Reads the greeting and logs in; returns the proxy connection id from the greeting. */
  long login(String user, String password) throws IOException {
    Packet greeting = read();
    byte[] g = greeting.payload();
    int at = 1;
    while (g[at] != 0) {
      at++;
    }
    at++;
    long id = (g[at] & 0xFFL) | (g[at + 1] & 0xFFL) << 8 | (g[at + 2] & 0xFFL) << 16 | (g[at + 3] & 0xFFL) << 24;
    byte[] nonce = new byte[20];
    System.arraycopy(g, at + 4, nonce, 0, 8);
    int part2 = at + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    System.arraycopy(g, part2, nonce, 8, 12);
    byte[] proof = Scrambles.nativeProof(password, nonce);
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    int caps = 0x200 | 0x8000 | 0x80000 | 0x2000 | 0x1;
    p.write(new byte[] {(byte) caps, (byte) (caps >> 8), (byte) (caps >> 16), (byte) (caps >> 24)});
    p.write(new byte[] {0, 0, 0, 1, 45});
    p.write(new byte[23]);
    p.write(user.getBytes(StandardCharsets.UTF_8));
    p.write(0);
    p.write(proof.length);
    p.write(proof);
    p.write("mysql_native_password".getBytes(StandardCharsets.US_ASCII));
    p.write(0);
    write(1, p.toByteArray());
    Packet ok = read();
    if (ok.header() != 0) {
      throw new IOException("login refused: " + ok.text());
    }
    return id;
  }

  /**
   * Reads the greeting, then sends the SSLRequest and the TLS ClientHello in ONE write, as a
   * client that does not wait between them may arrive; returns the first byte the server answers
   * (0x16: a TLS handshake record, i.e. the ServerHello).
   */
  int sslRequestAndClientHelloTogether() throws Exception {
    read();
    int caps = 0x200 | 0x8000 | 0x800 | 0x80000 | 0x1;
    byte[] ssl = new byte[32];
    ssl[0] = (byte) caps;
    ssl[1] = (byte) (caps >> 8);
    ssl[2] = (byte) (caps >> 16);
    ssl[3] = (byte) (caps >> 24);
    ssl[7] = 1;
    ssl[8] = 45;
    javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
    tls.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
      @Override
      public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
      }

      @Override
      public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {
      }

      @Override
      public java.security.cert.X509Certificate[] getAcceptedIssuers() {
        return new java.security.cert.X509Certificate[0];
      }
    }}, null);
    javax.net.ssl.SSLEngine engine = tls.createSSLEngine("127.0.0.1", socket.getPort());
    engine.setUseClientMode(true);
    engine.beginHandshake();
    java.nio.ByteBuffer hello = java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(java.nio.ByteBuffer.allocate(0), hello);
    hello.flip();
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    both.write(new byte[] {32, 0, 0, 1});
    both.write(ssl);
    both.write(hello.array(), 0, hello.limit());
    out.write(both.toByteArray());
    out.flush();
    return in.readUnsignedByte();
  }

  void write(int seq, byte[] payload) throws IOException {
    writeHeader(payload.length, seq);
    out.write(payload);
    out.flush();
  }

  /** Writes bytes as they are (any part of any packets) and flushes. */
  void writeRaw(byte[] bytes, int offset, int length) throws IOException {
    out.write(bytes, offset, length);
    out.flush();
  }

  void writeHeader(int length, int seq) throws IOException {
    out.write(new byte[] {(byte) length, (byte) (length >> 8), (byte) (length >> 16), (byte) seq});
    out.flush();
  }

  void query(String sql) throws IOException {
    byte[] s = sql.getBytes(StandardCharsets.UTF_8);
    byte[] p = new byte[s.length + 1];
    p[0] = 0x03;
    System.arraycopy(s, 0, p, 1, s.length);
    write(0, p);
  }

  Packet read() throws IOException {
    int b0 = in.readUnsignedByte();
    int b1 = in.readUnsignedByte();
    int b2 = in.readUnsignedByte();
    int seq = in.readUnsignedByte();
    int len = b0 | b1 << 8 | b2 << 16;
    byte[] payload = new byte[len];
    in.readFully(payload);
    return new Packet(seq, payload);
  }

  /** True when the server closed the connection (EOF within the read timeout). */
  boolean closedByPeer() throws IOException {
    try {
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
