package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;
import org.bson.BsonDocument;

/**
 * Builds wire messages byte by byte for codec tests, the way drivers lay them out: header,
 * flags, a kind-0 body, kind-1 document sequences, an optional CRC-32C.
 */
final class Messages {

  private Messages() {
  }

  static byte[] bson(String json) {
    return MongoReplies.encode(BsonDocument.parse(json));
  }

  /** An OP_MSG with a body and optional document sequences ({@code identifier, docs...}). */
  static byte[] opMsg(int requestId, int flags, String bodyJson, Object... sequences) {
    ByteArrayOutputStream sections = new ByteArrayOutputStream();
    sections.write(0);
    sections.writeBytes(bson(bodyJson));
    for (int i = 0; i < sequences.length; i += 2) {
      String identifier = (String) sequences[i];
      @SuppressWarnings("unchecked")
      List<String> docs = (List<String>) sequences[i + 1];
      ByteArrayOutputStream seq = new ByteArrayOutputStream();
      seq.writeBytes(identifier.getBytes(StandardCharsets.UTF_8));
      seq.write(0);
      for (String d : docs) {
        seq.writeBytes(bson(d));
      }
      sections.write(1);
      sections.writeBytes(le(4 + seq.size()));
      sections.writeBytes(seq.toByteArray());
    }
    boolean checksum = (flags & OpMsg.CHECKSUM_PRESENT) != 0;
    byte[] body = sections.toByteArray();
    int length = 16 + 4 + body.length + (checksum ? 4 : 0);
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(length).putInt(requestId).putInt(0).putInt(OpCode.OP_MSG).putInt(flags).put(body);
    if (checksum) {
      CRC32C crc = new CRC32C();
      crc.update(b.array(), 0, length - 4);
      b.putInt((int) crc.getValue());
    }
    return b.array();
  }

  /** A legacy OP_QUERY on {@code collection} with {@code queryJson}. */
  static byte[] opQuery(int requestId, String collection, String queryJson) {
    byte[] name = collection.getBytes(StandardCharsets.UTF_8);
    byte[] query = bson(queryJson);
    int length = 16 + 4 + name.length + 1 + 8 + query.length;
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(length).putInt(requestId).putInt(0).putInt(OpCode.OP_QUERY).putInt(0)
        .put(name).put((byte) 0).putInt(0).putInt(-1).put(query);
    return b.array();
  }

  /** A header-only message with an arbitrary opcode and {@code payload} after it. */
  static byte[] raw(int requestId, int opCode, byte[] payload) {
    int length = 16 + payload.length;
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(length).putInt(requestId).putInt(0).putInt(opCode).put(payload);
    return b.array();
  }

  static byte[] le(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }

  static ByteBuf buf(byte[] bytes) {
    return Unpooled.wrappedBuffer(bytes);
  }

  static MongoFrame frame(byte[] bytes) {
    return new MongoFrame(Unpooled.copiedBuffer(bytes));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
