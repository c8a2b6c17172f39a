package io.mproxy.protocol.mysql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.mysql.codec.Mysql;
import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.mproxy.protocol.mysql.codec.ResponseReader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backend side's framing of answers: the decoder hands whole packets of a read over as one
 * run, the handler walks them and gives each exchange its part in place (a read can end one
 * answer and begin the next), 16 MB continuation packets come as joined packets. Answers are
 * split across reads at every byte boundary; each exchange must see exactly its answer's bytes,
 * in order, and its last packet where the reader says so.
 */
class BackendFramingTest {

  private static final int AC = Mysql.SERVER_STATUS_AUTOCOMMIT;
  private static final int MORE = Mysql.SERVER_MORE_RESULTS_EXISTS;
  private static final byte[] COLUMN = {3, 'd', 'e', 'f', 0, 0, 0, 1, 'a', 0, 0x0c, 0x3f, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0};

  /** Forwards like the session's Job: checks each packet with a reader, keeps its ranges as slices. */
  private static final class Forwarding extends Exchange {
    final ResponseReader reader;
    final ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
    final List<Integer> runLengths = new ArrayList<>();
    int pendingFrom = -1;
    int packetsInPlace;
    int joinedPackets;
    boolean done;
    Throwable failure;

    Forwarding(ResponseReader.Shape shape) {
      reader = new ResponseReader(shape, false);
    }

    @Override
    boolean onPacketInPlace(ByteBuf buf, int at, int len, int seq) {
      assertFalse(done, "a packet after the last");
      packetsInPlace++;
      if (pendingFrom < 0) {
        pendingFrom = at;
      }
      done = reader.accept(buf, at + 4, len);
      return done;
    }

    @Override
    void endRun(ByteBuf buf, int to) {
      assertTrue(pendingFrom >= 0, "a run closed with no packet in it");
      byte[] b = new byte[to - pendingFrom];
      buf.getBytes(pendingFrom, b);
      forwarded.writeBytes(b);
      runLengths.add(b.length);
      pendingFrom = -1;
    }

    @Override
    boolean onPacket(MysqlPacket packet) {
      try {
        assertFalse(done, "a packet after the last");
        joinedPackets++;
        done = reader.accept(packet);
        forwarded.writeBytes(ByteBufUtil.getBytes(packet.raw()));
        return done;
      } finally {
        packet.release();
      }
    }

    @Override
    void failed(Throwable cause) {
      failure = cause;
    }
  }

  private static byte[] wire(int firstSeq, byte[]... payloads) {
    ByteBuf b = Unpooled.buffer();
    int seq = firstSeq;
    for (byte[] p : payloads) {
      b.writeMediumLE(p.length).writeByte(seq++).writeBytes(p);
    }
    byte[] out = ByteBufUtil.getBytes(b);
    b.release();
    return out;
  }

  private static byte[] eof(int status) {
    return new byte[] {(byte) 0xFE, 0, 0, (byte) status, (byte) (status >> 8)};
  }

  private static byte[] ok(int status) {
    return new byte[] {0, 0, 0, (byte) status, (byte) (status >> 8), 0, 0};
  }

  private static byte[] row(int size) {
    byte[] r = new byte[size];
    r[0] = (byte) 0xFC;   // a length-encoded string of size - 3 bytes
    r[1] = (byte) (size - 3);
    r[2] = (byte) ((size - 3) >> 8);
    for (int i = 3; i < size; i++) {
      r[i] = (byte) i;
    }
    return r;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** Two answers back to back: a result set then OK then a second result set (multi-results), then an OK. */
  private static final byte[] MULTI = wire(1, new byte[] {1}, COLUMN, eof(AC), row(40), row(300), eof(AC | MORE),
      ok(AC | MORE), new byte[] {1}, COLUMN, eof(AC), row(10), eof(AC));
  private static final byte[] SECOND = wire(1, ok(AC));

  private static EmbeddedChannel channel() {
    return new EmbeddedChannel(new MysqlBackendHandler(1L << 30));
  }

  private static Forwarding[] twoExchanges(EmbeddedChannel ch) {
    MysqlBackendHandler h = ch.pipeline().get(MysqlBackendHandler.class);
    Forwarding a = new Forwarding(ResponseReader.Shape.RESULTS);
    Forwarding b = new Forwarding(ResponseReader.Shape.RESULTS);
    h.send(Unpooled.buffer(1).writeByte(1), a);
    h.send(Unpooled.buffer(1).writeByte(2), b);
    ch.releaseOutbound();
    return new Forwarding[] {a, b};
  }

  @Test
  void answersSplitAtEveryByteBoundaryReachTheirExchangesWhole() {
    byte[] all = concat(MULTI, SECOND);
    for (int cut = 0; cut <= all.length; cut++) {
      EmbeddedChannel ch = channel();
      Forwarding[] ex = twoExchanges(ch);
      ch.writeInbound(Unpooled.wrappedBuffer(all, 0, cut));
      ch.writeInbound(Unpooled.wrappedBuffer(all, cut, all.length - cut));
      assertTrue(ex[0].done && ex[1].done, "cut at " + cut);
      assertArrayEquals(MULTI, ex[0].forwarded.toByteArray(), "first answer, cut at " + cut);
      assertArrayEquals(SECOND, ex[1].forwarded.toByteArray(), "second answer, cut at " + cut);
      assertEquals(3, ex[0].reader.resultSets());
      assertEquals(12, ex[0].packetsInPlace);
      assertTrue(ex[0].runLengths.size() <= 2, "one run per read and exchange: " + ex[0].runLengths);
      assertNull(ex[0].failure);
      assertNull(ch.readInbound());
      assertFalse(ch.finish());
    }
  }

  @Test
  void answersFedOneByteAtATimeAndAllAtOnce() {
    byte[] all = concat(MULTI, SECOND);
    EmbeddedChannel bytewise = channel();
    Forwarding[] ex = twoExchanges(bytewise);
    for (byte b : all) {
      bytewise.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    assertArrayEquals(MULTI, ex[0].forwarded.toByteArray());
    assertArrayEquals(SECOND, ex[1].forwarded.toByteArray());
    assertFalse(bytewise.finish());

    EmbeddedChannel once = channel();
    Forwarding[] ex2 = twoExchanges(once);
    once.writeInbound(Unpooled.wrappedBuffer(all));
    assertEquals(List.of(MULTI.length), ex2[0].runLengths, "one read, one run for the first answer");
    assertEquals(List.of(SECOND.length), ex2[1].runLengths);
    assertFalse(once.finish());
  }

  @Test
  void aSixteenMegabyteRowBetweenSmallPacketsComesJoinedInOrder() {
    byte[] big = row(MysqlPacket.MAX_CHUNK + 100);
    big[1] = (byte) 0xFF;   // the row's content does not matter to the reader, only its framing
    MysqlPacket framed = MysqlPacket.frame(Unpooled.buffer().alloc(), 4, Unpooled.wrappedBuffer(big));
    byte[] bigWire = ByteBufUtil.getBytes(framed.raw());
    framed.release();
    byte[] head = wire(1, new byte[] {1}, COLUMN, eof(AC));
    byte[] tail = wire(6, row(20), eof(AC));
    byte[] answer = concat(head, bigWire, tail);
    for (int cut : new int[] {1, head.length - 1, head.length + 3, head.length + 5000, answer.length - tail.length - 1,
        answer.length - 2}) {
      EmbeddedChannel ch = channel();
      MysqlBackendHandler h = ch.pipeline().get(MysqlBackendHandler.class);
      Forwarding f = new Forwarding(ResponseReader.Shape.RESULTS);
      h.send(Unpooled.buffer(1).writeByte(1), f);
      ch.releaseOutbound();
      ch.writeInbound(Unpooled.wrappedBuffer(answer, 0, cut));
      ch.writeInbound(Unpooled.wrappedBuffer(answer, cut, answer.length - cut));
      assertTrue(f.done, "cut at " + cut);
      assertEquals(1, f.joinedPackets);
      assertArrayEquals(answer, f.forwarded.toByteArray(), "cut at " + cut);
      assertFalse(ch.finish());
    }
  }

  @Test
  void bytesAnsweringNoCommandCloseTheConnection() {
    EmbeddedChannel ch = channel();
    MysqlBackendHandler h = ch.pipeline().get(MysqlBackendHandler.class);
    Forwarding f = new Forwarding(ResponseReader.Shape.RESULTS);
    h.send(Unpooled.buffer(1).writeByte(1), f);
    ch.releaseOutbound();
    ch.writeInbound(Unpooled.wrappedBuffer(concat(SECOND, SECOND)));
    assertTrue(f.done);
    assertArrayEquals(SECOND, f.forwarded.toByteArray());
    assertFalse(ch.isOpen());
    ch.finish();
  }

  @Test
  void aMalformedAnswerFailsItsExchangeAndClosesTheConnection() {
    EmbeddedChannel ch = channel();
    MysqlBackendHandler h = ch.pipeline().get(MysqlBackendHandler.class);
    Forwarding f = new Forwarding(ResponseReader.Shape.RESULTS);
    h.send(Unpooled.buffer(1).writeByte(1), f);
    ch.releaseOutbound();
    // a column count then a row where the EOF after the column definitions belongs
    ch.writeInbound(Unpooled.wrappedBuffer(wire(1, new byte[] {1}, COLUMN, row(10), eof(AC))));
    assertTrue(f.failure instanceof io.mproxy.protocol.mysql.codec.MysqlCodecException, String.valueOf(f.failure));
    assertFalse(ch.isOpen());
    ch.finish();
  }

  @Test
  void aPacketOverTheLimitFailsEveryOpenExchangeFromItsHeaderAndClosesTheConnection() {
    EmbeddedChannel ch = new EmbeddedChannel(new MysqlBackendHandler(100));
    Forwarding[] ex = twoExchanges(ch);
    // only the header of a 101-byte packet: refused before its body is read
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {101, 0, 0, 1}));
    assertTrue(ex[0].failure instanceof io.mproxy.protocol.mysql.codec.MysqlCodecException, String.valueOf(ex[0].failure));
    assertEquals(io.mproxy.protocol.mysql.codec.MysqlFrameDecoder.ER_NET_PACKET_TOO_LARGE,
        ((io.mproxy.protocol.mysql.codec.MysqlCodecException) ex[0].failure).errorCode());
    assertTrue(ex[1].failure != null, "the second exchange is failed too");
    assertFalse(ch.isOpen());
    assertEquals(0, ex[1].forwarded.size());
    ch.finish();
  }

  @Test
  void continuationPacketsOutOfOrderFailTheExchange() {
    EmbeddedChannel ch = channel();
    MysqlBackendHandler h = ch.pipeline().get(MysqlBackendHandler.class);
    Forwarding f = new Forwarding(ResponseReader.Shape.RESULTS);
    h.send(Unpooled.buffer(1).writeByte(1), f);
    ch.releaseOutbound();
    ByteBuf piece = Unpooled.buffer(4 + MysqlPacket.MAX_CHUNK);
    piece.writeMediumLE(MysqlPacket.MAX_CHUNK).writeByte(1).writeZero(MysqlPacket.MAX_CHUNK);
    ch.writeInbound(piece);
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {1, 0, 0, 7, 0}));   // sequence id 7, expected 2
    assertEquals(io.mproxy.protocol.mysql.codec.MysqlFrameDecoder.ER_NET_PACKETS_OUT_OF_ORDER,
        ((io.mproxy.protocol.mysql.codec.MysqlCodecException) f.failure).errorCode());
    assertFalse(ch.isOpen());
    ch.finish();
  }

  @Test
  void bytesBeforeTheFirstExchangeAreKeptForIt() {
    EmbeddedChannel ch = channel();
    MysqlBackendHandler h = ch.pipeline().get(MysqlBackendHandler.class);
    byte[] answer = concat(MULTI);
    ch.writeInbound(Unpooled.wrappedBuffer(answer, 0, 7));
    ch.writeInbound(Unpooled.wrappedBuffer(answer, 7, answer.length - 7));
    Forwarding f = new Forwarding(ResponseReader.Shape.RESULTS);
    h.expect(f);
    assertTrue(f.done);
    assertArrayEquals(MULTI, f.forwarded.toByteArray());
    assertTrue(ch.isOpen());
    assertFalse(ch.finish());
  }

  @Test
  void aLargeRowReadInSmallPiecesArrivesWhole() {
    byte[] answer = wire(1, new byte[] {1}, COLUMN, eof(AC), row(200_000), row(5), eof(AC));
    EmbeddedChannel ch = channel();
    MysqlBackendHandler h = ch.pipeline().get(MysqlBackendHandler.class);
    Forwarding f = new Forwarding(ResponseReader.Shape.RESULTS);
    h.send(Unpooled.buffer(1).writeByte(1), f);
    ch.releaseOutbound();
    for (int at = 0; at < answer.length; at += 1000) {
      ch.writeInbound(Unpooled.wrappedBuffer(answer, at, Math.min(1000, answer.length - at)));
    }
    assertTrue(f.done);
    assertArrayEquals(answer, f.forwarded.toByteArray());
    assertFalse(ch.finish());
  }
}
