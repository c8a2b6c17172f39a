package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A legacy OP_QUERY, parsed far enough for the handshake drivers still send with it
 * ({@code isMaster}/{@code hello} on {@code admin.$cmd}): the collection name and where the query
 * document is.
 */
public final class OpQuery {

  private final String fullCollectionName;
  private final int queryStart;
  private final int queryLength;

  private OpQuery(String fullCollectionName, int queryStart, int queryLength) {
    this.fullCollectionName = fullCollectionName;
    this.queryStart = queryStart;
    this.queryLength = queryLength;
  }

  public static OpQuery parse(MongoFrame frame) {
    if (frame.opCode() != OpCode.OP_QUERY) {
      throw new MongoCodecException("not an OP_QUERY", frame.requestId());
    }
    ByteBuf buf = frame.content();
    int base = buf.readerIndex();
    int end = base + buf.readableBytes();
    int nameStart = base + MongoFrame.HEADER_BYTES + 4;
    int nul = nameStart < end ? buf.indexOf(nameStart, end, (byte) 0) : -1;
    if (nul < 0) {
      throw new MongoCodecException("OP_QUERY collection name is not terminated", frame.requestId());
    }
    String name = buf.toString(nameStart, nul - nameStart, StandardCharsets.UTF_8);
    int query = nul + 1 + 8;
    try {
      int len = BsonScanner.documentLength(buf, query, end);
      return new OpQuery(name, query, len);
    } catch (MongoCodecException e) {
      throw new MongoCodecException("OP_QUERY: " + e.getMessage(), frame.requestId());
    }
  }

  /** E.g. {@code admin.$cmd}. */
  public String fullCollectionName() {
    return fullCollectionName;
  }

  /** Whether this is a command ({@code <db>.$cmd}) rather than a legacy find. */
  public boolean isCommand() {
    return fullCollectionName.endsWith(".$cmd");
  }

  public String database() {
    int dot = fullCollectionName.indexOf('.');
    return dot < 0 ? fullCollectionName : fullCollectionName.substring(0, dot);
  }

  public BsonScanner query(MongoFrame frame) {
    return BsonScanner.of(frame.content(), queryStart, queryStart + queryLength);
  }

  public int queryStart() {
    return queryStart;
  }

  public int queryLength() {
    return queryLength;
  }
}
