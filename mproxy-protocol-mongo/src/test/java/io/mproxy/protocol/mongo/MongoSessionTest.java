package io.mproxy.protocol.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.AuthConfig;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoFrameDecoder;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.protocol.mongo.codec.OpCode;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;

/**
 * The client side of a session on EmbeddedChannel with captured-style bytes: what the proxy
 * answers itself (handshakes over OP_QUERY and OP_MSG, ping, auth gate, refusals), and how it
 * treats every message type it does not forward (OP_COMPRESSED, legacy opcodes, malformed
 * messages: one error reply, then close).
 */
class MongoSessionTest {

  private static EmbeddedChannel channel(TestListener listener) {
    EmbeddedChannel ch = new EmbeddedChannel();
    new MongoProtocolAdapter().initClientChannel(ch, listener);
    return ch;
  }

  private static ByteBuf opMsg(int requestId, int flags, String json) {
    return MongoReplies.opMsg(ByteBufAllocator.DEFAULT, requestId, 0, flags, BsonDocument.parse(json));
  }

  private static ByteBuf opQuery(int requestId, String collection, String json) {
    byte[] name = collection.getBytes(StandardCharsets.UTF_8);
    byte[] query = MongoReplies.encode(BsonDocument.parse(json));
    int length = 16 + 4 + name.length + 1 + 8 + query.length;
    ByteBuf b = Unpooled.buffer(length);
    b.writeIntLE(length).writeIntLE(requestId).writeIntLE(0).writeIntLE(OpCode.OP_QUERY).writeIntLE(0)
        .writeBytes(name).writeByte(0).writeIntLE(0).writeIntLE(-1).writeBytes(query);
    return b;
  }

  /** The next reply the session wrote, decoded; asserts it answers {@code requestId}. */
  private static Reply reply(EmbeddedChannel ch, int requestId) {
    ByteBuf out = ch.readOutbound();
    if (out == null) {
      throw new AssertionError("no reply written");
    }
    MongoFrame f = new MongoFrame(out);
    try {
      assertEquals(requestId, f.responseTo(), "responseTo");
      int flags = f.opCode() == OpCode.OP_REPLY ? out.getIntLE(out.readerIndex() + 16) : OpMsg.flagsOf(out);
      return new Reply(f.opCode(), flags, ReplyScan.document(f));
    } finally {
      f.release();
    }
  }

  private record Reply(int opCode, int flags, RawBsonDocument doc) {
    int code() {
      return doc.getInt32("code").getValue();
    }
  }

  @Test
  void legacyIsMasterOverOpQueryIsAnsweredAsOneMongos() {
    EmbeddedChannel ch = channel(TestListener.open());
    ch.writeInbound(opQuery(11, "admin.$cmd", "{isMaster: 1, helloOk: true, client: {application: {name: 'app1'},"
        + " driver: {name: 'x', version: '1'}, os: {type: 'Linux'}}, compression: ['zstd', 'snappy']}"));
    Reply r = reply(ch, 11);
    assertEquals(OpCode.OP_REPLY, r.opCode());
    assertTrue(r.doc().getBoolean("ismaster").getValue());
    assertTrue(r.doc().getBoolean("helloOk").getValue());
    assertEquals("isdbgrid", r.doc().getString("msg").getValue());
    assertEquals(8, r.doc().getInt32("maxWireVersion").getValue());
    assertEquals(64 * 1024, r.doc().getInt32("maxMessageSizeBytes").getValue());
    assertFalse(r.doc().containsKey("compression"), "compression is never negotiated");
    assertFalse(r.doc().containsKey("topologyVersion"));
    assertFalse(r.doc().containsKey("serviceId"));
    assertEquals(1.0, r.doc().getNumber("ok").doubleValue());
    assertTrue(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void helloOverOpMsgWithLoadBalancedCarriesAServiceId() {
    EmbeddedChannel ch = channel(TestListener.open());
    ch.writeInbound(opMsg(12, 0, "{hello: 1, loadBalanced: true, $db: 'admin'}"));
    Reply r = reply(ch, 12);
    assertEquals(OpCode.OP_MSG, r.opCode());
    assertTrue(r.doc().getBoolean("isWritablePrimary").getValue());
    assertTrue(r.doc().get("serviceId").isObjectId());
    assertFalse(r.doc().containsKey("ismaster"));
    assertFalse(ch.finish());
  }

  @Test
  void pingAndPipelinedMessagesAreAnsweredInOrder() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf two = Unpooled.wrappedBuffer(opMsg(1, 0, "{ping: 1, $db: 'admin'}"), opMsg(2, 0, "{ping: 1, $db: 'admin'}"));
    ch.writeInbound(two);
    assertEquals(1.0, reply(ch, 1).doc().getNumber("ok").doubleValue());
    assertEquals(1.0, reply(ch, 2).doc().getNumber("ok").doubleValue());
    assertFalse(ch.finish());
  }

  @Test
  void checksummedMessageIsVerifiedAndAnswered() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf m = opMsg(3, OpMsg.CHECKSUM_PRESENT, "{ping: 1, $db: 'admin'}");
    int length = m.readableBytes() + 4;
    m.setIntLE(0, length);
    m.writeIntLE(OpMsg.crc32c(m, 0, m.readableBytes()));
    ch.writeInbound(m);
    assertEquals(1.0, reply(ch, 3).doc().getNumber("ok").doubleValue());
    assertTrue(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void checksumMismatchGetsAnErrorAndClose() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf m = opMsg(4, OpMsg.CHECKSUM_PRESENT, "{ping: 1, $db: 'admin'}");
    m.setIntLE(0, m.readableBytes() + 4);
    m.writeIntLE(12345);
    ch.writeInbound(m);
    Reply r = reply(ch, 4);
    assertEquals(MongoErrors.FAILED_TO_PARSE, r.code());
    assertTrue(r.doc().getString("errmsg").getValue().contains("checksum"));
    assertFalse(ch.isActive(), "closed after the error");
    assertFalse(ch.finish());
  }

  @Test
  void opCompressedWasNeverNegotiated() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf m = Unpooled.buffer();
    m.writeIntLE(16 + 9).writeIntLE(5).writeIntLE(0).writeIntLE(OpCode.OP_COMPRESSED)
        .writeIntLE(OpCode.OP_MSG).writeIntLE(100).writeByte(1);
    ch.writeInbound(m);
    Reply r = reply(ch, 5);
    assertTrue(r.doc().getString("errmsg").getValue().startsWith("mproxy: protocol error: OP_COMPRESSED"));
    assertFalse(r.doc().containsKey("errorLabels"));
    assertFalse(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void legacyOpcodesAreRefusedAndClosed() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf m = Unpooled.buffer();
    m.writeIntLE(16 + 4).writeIntLE(6).writeIntLE(0).writeIntLE(OpCode.OP_INSERT).writeIntLE(0);
    ch.writeInbound(m);
    assertTrue(reply(ch, 6).doc().getString("errmsg").getValue().contains("OP_INSERT is not supported"));
    assertFalse(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void badBsonGetsInvalidBsonAndClose() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf m = opMsg(7, 0, "{find: 'c', filter: {a: 1}, $db: 'app'}");
    m.setByte(16 + 4 + 1 + 4, 0x42);
    ch.writeInbound(m);
    assertEquals(MongoErrors.INVALID_BSON, reply(ch, 7).code());
    assertFalse(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void oversizedMessageIsRefusedBeforeBuffering() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf header = Unpooled.buffer();
    header.writeIntLE(64 * 1024 + 1).writeIntLE(8).writeIntLE(0).writeIntLE(OpCode.OP_MSG);
    ch.writeInbound(header);
    Reply r = reply(ch, 8);
    assertEquals(MongoErrors.TOO_LARGE, r.code());
    assertEquals("BSONObjectTooLarge", r.doc().getString("codeName").getValue());
    assertFalse(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void lengthFieldShorterThanTheSectionsIsAnError() {
    EmbeddedChannel ch = channel(TestListener.open());
    ByteBuf m = opMsg(9, 0, "{ping: 1, $db: 'admin'}");
    ByteBuf cut = Unpooled.buffer();
    cut.writeIntLE(m.readableBytes() - 6).writeBytes(m, 4, m.readableBytes() - 10);
    m.release();
    ch.writeInbound(cut);
    assertEquals(MongoErrors.INVALID_BSON, reply(ch, 9).code());
    assertFalse(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void otherOpQueriesFailButKeepTheConnection() {
    EmbeddedChannel ch = channel(TestListener.open());
    ch.writeInbound(opQuery(10, "app.users", "{name: 'x'}"));
    Reply r = reply(ch, 10);
    assertEquals(OpCode.OP_REPLY, r.opCode());
    assertEquals(MongoReplies.QUERY_FAILURE, r.flags() & MongoReplies.QUERY_FAILURE);
    assertEquals(MongoErrors.UNSUPPORTED_OP_QUERY, r.code());
    assertTrue(ch.isActive());
    ch.writeInbound(opMsg(11, 0, "{ping: 1, $db: 'admin'}"));
    assertEquals(1.0, reply(ch, 11).doc().getNumber("ok").doubleValue());
    assertFalse(ch.finish());
  }

  @Test
  void refusalIsACommandErrorWithoutLabelsAndMoreToComeGetsNoReply() {
    EmbeddedChannel ch = channel(TestListener.starved());
    ch.writeInbound(opMsg(20, OpMsg.MORE_TO_COME, "{insert: 'c', documents: [{_id: 1}], $db: 'app',"
        + " writeConcern: {w: 0}}"));
    assertNull(ch.readOutbound(), "a moreToCome request is never answered, not even when refused");
    ch.writeInbound(opMsg(21, 0, "{find: 'c', filter: {}, $db: 'app'}"));
    Reply r = reply(ch, 21);
    assertEquals(0.0, r.doc().getNumber("ok").doubleValue());
    assertEquals(MongoErrors.RATE_LIMITED, r.code());
    assertEquals("RequestRateTooLarge", r.doc().getString("codeName").getValue());
    assertTrue(r.doc().getString("errmsg").getValue().startsWith("mproxy: rejected group=default reason=ru_limit"),
        r.doc().getString("errmsg").getValue());
    assertFalse(r.doc().containsKey("errorLabels"));
    assertTrue(ch.isActive(), "the connection stays usable");
    assertFalse(ch.finish());
  }

  @Test
  void commandsBeforeAuthenticationAreUnauthorized() {
    EmbeddedChannel ch = channel(TestListener.withUsers(new AuthConfig.UserConfig("app", "secret", null)));
    ch.writeInbound(opMsg(30, 0, "{find: 'c', filter: {}, $db: 'app'}"));
    Reply r = reply(ch, 30);
    assertEquals(MongoErrors.UNAUTHORIZED, r.code());
    ch.writeInbound(opMsg(31, 0, "{hello: 1, saslSupportedMechs: 'admin.app', $db: 'admin'}"));
    Reply hello = reply(ch, 31);
    assertEquals(2, hello.doc().getArray("saslSupportedMechs").size());
    ch.writeInbound(opMsg(32, 0, "{hello: 1, saslSupportedMechs: 'admin.nobody', $db: 'admin'}"));
    assertFalse(reply(ch, 32).doc().containsKey("saslSupportedMechs"));
    assertTrue(ch.isActive());
    assertFalse(ch.finish());
  }

  @Test
  void scramWithoutSkipEmptyExchangeTakesOneMoreEmptyRound() throws Exception {
    EmbeddedChannel ch = channel(TestListener.withUsers(new AuthConfig.UserConfig("app", "pw", null)));
    io.mproxy.core.auth.ScramClient client = io.mproxy.core.auth.ScramClient.create(
        io.mproxy.core.auth.ScramMechanism.SHA_1, "app", ScramUsers.mongoDigest("app", "pw"), ScramUsers.RANDOM);
    ch.writeInbound(sasl(40, "{saslStart: 1, mechanism: 'SCRAM-SHA-1', $db: 'admin'}", client.clientFirst()));
    Reply first = reply(ch, 40);
    assertFalse(first.doc().getBoolean("done").getValue());
    String serverFirst = new String(first.doc().getBinary("payload").getData(), StandardCharsets.UTF_8);
    ch.writeInbound(sasl(41, "{saslContinue: 1, conversationId: 1, $db: 'admin'}", client.clientFinal(serverFirst)));
    Reply second = reply(ch, 41);
    assertFalse(second.doc().getBoolean("done").getValue(), "no skipEmptyExchange: not done yet");
    client.verifyServerFinal(new String(second.doc().getBinary("payload").getData(), StandardCharsets.UTF_8));
    ch.writeInbound(sasl(42, "{saslContinue: 1, conversationId: 1, $db: 'admin'}", ""));
    assertTrue(reply(ch, 42).doc().getBoolean("done").getValue());
    ch.writeInbound(opMsg(43, 0, "{ping: 1, $db: 'admin'}"));
    assertEquals(1.0, reply(ch, 43).doc().getNumber("ok").doubleValue());
    assertFalse(ch.finish());
  }

  @Test
  void scramWithAWrongProofFails() throws Exception {
    EmbeddedChannel ch = channel(TestListener.withUsers(new AuthConfig.UserConfig("app", "pw", null)));
    io.mproxy.core.auth.ScramClient client = io.mproxy.core.auth.ScramClient.create(
        io.mproxy.core.auth.ScramMechanism.SHA_256, "app", "not-pw", ScramUsers.RANDOM);
    ch.writeInbound(sasl(50, "{saslStart: 1, mechanism: 'SCRAM-SHA-256', options: {skipEmptyExchange: true},"
        + " $db: 'admin'}", client.clientFirst()));
    String serverFirst = new String(reply(ch, 50).doc().getBinary("payload").getData(), StandardCharsets.UTF_8);
    ch.writeInbound(sasl(51, "{saslContinue: 1, conversationId: 1, $db: 'admin'}", client.clientFinal(serverFirst)));
    Reply r = reply(ch, 51);
    assertEquals(MongoErrors.AUTHENTICATION_FAILED, r.code());
    ch.writeInbound(opMsg(52, 0, "{find: 'c', $db: 'app'}"));
    assertEquals(MongoErrors.UNAUTHORIZED, reply(ch, 52).code());
    ch.writeInbound(opMsg(53, 0, "{saslStart: 1, mechanism: 'PLAIN', payload: {$binary: {base64: '', subType: '00'}},"
        + " $db: '$external'}"));
    assertEquals(MongoErrors.MECHANISM_UNAVAILABLE, reply(ch, 53).code());
    assertFalse(ch.finish());
  }

  private static ByteBuf sasl(int requestId, String json, String payload) {
    BsonDocument body = BsonDocument.parse(json);
    BsonDocument withPayload = new BsonDocument();
    body.forEach((k, v) -> {
      if (k.equals("$db")) {
        withPayload.append("payload", new org.bson.BsonBinary(payload.getBytes(StandardCharsets.UTF_8)));
      }
      withPayload.append(k, v);
    });
    return MongoReplies.opMsg(ByteBufAllocator.DEFAULT, requestId, 0, 0, withPayload);
  }

  static byte[] le(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }

  static int crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }
}
