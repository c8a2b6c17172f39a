package io.mproxy.server.it.mongo;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bson.BsonBinaryReader;
import org.bson.BsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.DecoderContext;
import org.bson.io.BasicOutputBuffer;

/** A raw wire-protocol socket for tests that send what no driver would. */
final class MongoWire implements AutoCloseable {

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;

  MongoWire(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    out = socket.getOutputStream();
    InputStream raw = socket.getInputStream();
    in = new DataInputStream(raw);
  }

  static byte[] bson(BsonDocument doc) {
    BasicOutputBuffer buf = new BasicOutputBuffer();
    try (org.bson.BsonBinaryWriter w = new org.bson.BsonBinaryWriter(buf)) {
      new BsonDocumentCodec().encode(w, doc, org.bson.codecs.EncoderContext.builder().build());
    }
    return buf.toByteArray();
  }

  static byte[] opMsg(int requestId, int flags, String json) {
    byte[] body = bson(BsonDocument.parse(json));
    int length = 16 + 4 + 1 + body.length;
    return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN).putInt(length).putInt(requestId)
        .putInt(0).putInt(2013).putInt(flags).put((byte) 0).put(body).array();
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Reads one OP_MSG reply and returns its body. */
  BsonDocument read() throws IOException {
    byte[] header = new byte[4];
    in.readFully(header);
    int length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt();
    byte[] rest = new byte[length - 4];
    in.readFully(rest);
    ByteBuffer b = ByteBuffer.wrap(rest).order(ByteOrder.LITTLE_ENDIAN);
    int opCode = b.getInt(8);
    if (opCode != 2013) {
      throw new AssertionError("expected an OP_MSG reply, got opCode " + opCode);
    }
    b.position(12 + 4 + 1);
    try (BsonBinaryReader r = new BsonBinaryReader(b.slice().order(ByteOrder.LITTLE_ENDIAN))) {
      return new BsonDocumentCodec().decode(r, DecoderContext.builder().build());
    }
  }

  /** Whether the proxy closed the connection (reads EOF within the socket timeout). */
  boolean closedByPeer() throws IOException {
    try {
      return in.read() < 0;
    } catch (EOFException e) {
      return true;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
