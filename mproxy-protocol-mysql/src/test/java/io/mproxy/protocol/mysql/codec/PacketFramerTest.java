package io.mproxy.protocol.mysql.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client side's framing in the session (no decoder stage): client packets split at every byte
 * boundary come out whole and in order; a read that is one packet is that packet without a copy
 * or slice; over-long and out-of-order input is refused with MySQL's errors.
 */
class PacketFramerTest {

  private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

  private static byte[] wire(int seq, byte[] payload) {
    ByteBuf b = Unpooled.buffer();
    b.writeMediumLE(payload.length).writeByte(seq).writeBytes(payload);
    byte[] out = ByteBufUtil.getBytes(b);
    b.release();
    return out;
  }

  private static byte[] command(int cmd, int size) {
    byte[] p = new byte[size];
    p[0] = (byte) cmd;
    for (int i = 1; i < size; i++) {
      p[i] = (byte) (i * 7 + cmd);
    }
    return p;
  }

  private static List<byte[]> drain(PacketFramer f) {
    List<byte[]> out = new ArrayList<>();
    MysqlPacket p;
    while ((p = f.poll(ALLOC)) != null) {
      out.add(ByteBufUtil.getBytes(p.raw()));
      p.release();
    }
    return out;
  }

  /** Three pipelined commands (a ping, an execute, a query) as one client would send them back to back. */
  private static final byte[][] COMMANDS = {
      wire(0, command(Mysql.COM_PING, 1)),
      wire(0, command(Mysql.COM_STMT_EXECUTE, 30)),
      wire(0, command(Mysql.COM_QUERY, 700)),
  };

  private static byte[] all() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] c : COMMANDS) {
      out.writeBytes(c);
    }
    return out.toByteArray();
  }

  @Test
  void commandsSplitAtEveryTwoByteBoundariesComeOutWholeAndInOrder() {
    byte[] all = all();
    for (int a = 0; a <= all.length; a += 1) {
      for (int b = a; b <= all.length; b += (a % 17 == 0 ? 1 : 53)) {
        PacketFramer f = new PacketFramer(1 << 20);
        List<byte[]> got = new ArrayList<>();
        f.add(ALLOC, Unpooled.wrappedBuffer(all, 0, a));
        got.addAll(drain(f));
        f.add(ALLOC, Unpooled.wrappedBuffer(all, a, b - a));
        got.addAll(drain(f));
        f.add(ALLOC, Unpooled.wrappedBuffer(all, b, all.length - b));
        got.addAll(drain(f));
        assertEquals(COMMANDS.length, got.size(), "cuts at " + a + ", " + b);
        for (int i = 0; i < COMMANDS.length; i++) {
          assertArrayEquals(COMMANDS[i], got.get(i), "command " + i + ", cuts at " + a + ", " + b);
        }
        assertSame(Unpooled.EMPTY_BUFFER, f.takeBuffered(), "nothing left over");
        f.release();
      }
    }
  }

  @Test
  void commandsFedOneByteAtATime() {
    byte[] all = all();
    PacketFramer f = new PacketFramer(1 << 20);
    List<byte[]> got = new ArrayList<>();
    for (byte b : all) {
      f.add(ALLOC, Unpooled.wrappedBuffer(new byte[] {b}));
      got.addAll(drain(f));
    }
    assertEquals(COMMANDS.length, got.size());
    for (int i = 0; i < COMMANDS.length; i++) {
      assertArrayEquals(COMMANDS[i], got.get(i));
    }
    f.release();
  }

  @Test
  void aReadThatIsOnePacketBecomesThatPacketWithoutASlice() {
    PacketFramer f = new PacketFramer(1 << 20);
    ByteBuf read = ALLOC.buffer().writeBytes(COMMANDS[1]);
    f.add(ALLOC, read);
    MysqlPacket p = f.poll(ALLOC);
    assertSame(read, p.raw());
    assertEquals(1, read.refCnt(), "the packet holds the read's only reference");
    assertNull(f.poll(ALLOC));
    p.release();
    assertEquals(0, read.refCnt());
  }

  @Test
  void aPacketOverTheLimitIsRefusedFromItsHeader() {
    PacketFramer f = new PacketFramer(100);
    f.add(ALLOC, Unpooled.wrappedBuffer(new byte[] {101, 0, 0, 0}));
    MysqlCodecException e = assertThrows(MysqlCodecException.class, () -> f.poll(ALLOC));
    assertEquals(MysqlFrameDecoder.ER_NET_PACKET_TOO_LARGE, e.errorCode());
    ByteBuf later = Unpooled.wrappedBuffer(COMMANDS[0]);
    f.add(ALLOC, later);
    assertEquals(0, later.refCnt(), "bytes after the error are dropped");
    assertNull(f.poll(ALLOC));
  }

  @Test
  void continuationPacketsAreJoinedAndMustBeInOrder() {
    ByteBuf first = Unpooled.buffer(4 + MysqlPacket.MAX_CHUNK);
    first.writeMediumLE(MysqlPacket.MAX_CHUNK).writeByte(0).writeByte(Mysql.COM_QUERY).writeZero(MysqlPacket.MAX_CHUNK - 1);
    byte[] firstBytes = ByteBufUtil.getBytes(first);
    byte[] tail = wire(1, new byte[] {'x', 'y'});

    PacketFramer ok = new PacketFramer(64L << 20);
    ok.add(ALLOC, first);
    assertNull(ok.poll(ALLOC));
    ok.add(ALLOC, Unpooled.wrappedBuffer(tail));
    MysqlPacket joined = ok.poll(ALLOC);
    assertEquals(MysqlPacket.MAX_CHUNK + 2, joined.length());
    assertEquals(1, joined.lastSequenceId());
    joined.release();

    PacketFramer bad = new PacketFramer(64L << 20);
    bad.add(ALLOC, Unpooled.wrappedBuffer(firstBytes));
    assertNull(bad.poll(ALLOC));
    bad.add(ALLOC, Unpooled.wrappedBuffer(wire(5, new byte[] {'x'})));
    MysqlCodecException e = assertThrows(MysqlCodecException.class, () -> bad.poll(ALLOC));
    assertEquals(MysqlFrameDecoder.ER_NET_PACKETS_OUT_OF_ORDER, e.errorCode());
  }

  @Test
  void bytesAfterTheLastPacketTakenCanBeHandedOver() {
    PacketFramer f = new PacketFramer(1 << 20);
    byte[] hello = {0x16, 3, 1, 0, 5, 1, 2, 3};
    ByteBuf read = Unpooled.buffer().writeBytes(COMMANDS[0]).writeBytes(hello);
    f.add(ALLOC, read);
    MysqlPacket p = f.poll(ALLOC);
    assertArrayEquals(COMMANDS[0], ByteBufUtil.getBytes(p.raw()));
    p.release();
    ByteBuf rest = f.takeBuffered();
    assertArrayEquals(hello, ByteBufUtil.getBytes(rest));
    rest.release();
    assertNull(f.poll(ALLOC));
    assertFalse(read.refCnt() > 0);
  }

  /**
   * Hostile input (seeded, so a failure repeats): valid command streams with a byte changed, cut
   * short, or random bytes, split at random points. Only MySQL's own codec error may come out,
   * every packet taken is within the limit, and nothing leaks (the framer is released at the end,
   * as the session does on close).
   */
  @Test
  void hostileBytesSplitAnywhereGiveOnlyTheCodecErrorAndLeakNothing() {
    hostileBytes(false);
  }

  /**
   * The same hostile inputs taken in place, as the session takes them: each packet lent through
   * the view is, at random, written (given away), kept, or neither, then given back; only the
   * codec errors come out and nothing leaks.
   */
  @Test
  void hostileBytesTakenInPlaceGiveOnlyTheCodecErrorAndLeakNothing() {
    hostileBytes(true);
  }

  private static void hostileBytes(boolean inPlace) {
    MysqlPacket view = MysqlPacket.borrowedView();
    java.util.Random random = new java.util.Random(20261128L);
    byte[] valid = all();
    for (int run = 0; run < 3000; run++) {
      byte[] input;
      switch (run % 3) {
        case 0 -> {
          input = valid.clone();
          input[random.nextInt(input.length)] = (byte) random.nextInt(256);
        }
        case 1 -> input = java.util.Arrays.copyOf(valid, random.nextInt(valid.length));
        default -> {
          input = new byte[random.nextInt(64)];
          random.nextBytes(input);
        }
      }
      PacketFramer f = new PacketFramer(512);
      int at = 0;
      try {
        while (at < input.length) {
          int n = 1 + random.nextInt(input.length - at);
          f.add(ALLOC, Unpooled.wrappedBuffer(input, at, n));
          at += n;
          MysqlPacket p;
          while ((p = inPlace ? f.poll(ALLOC, view) : f.poll(ALLOC)) != null) {
            assertFalse(p.length() > 512, "a packet over the limit came out");
            if (p != view) {
              p.release();
              continue;
            }
            switch (random.nextInt(3)) {
              case 0 -> p.takeRaw().release();
              case 1 -> p.keep().release();
              default -> p.release();
            }
            f.giveBack(p);
          }
        }
      } catch (MysqlCodecException e) {
        int code = e.errorCode();
        assertFalse(code != MysqlFrameDecoder.ER_NET_PACKET_TOO_LARGE && code != MysqlFrameDecoder.ER_NET_PACKETS_OUT_OF_ORDER,
            "unexpected code " + code);
      } finally {
        f.release();
      }
    }
  }

  /** Takes every packet through the borrowed view, each as its bytes, keeping none. */
  private static List<byte[]> drainInPlace(PacketFramer f, MysqlPacket view) {
    List<byte[]> out = new ArrayList<>();
    MysqlPacket p;
    while ((p = f.poll(ALLOC, view)) != null) {
      if (p == view) {
        byte[] b = new byte[4 + p.length()];
        p.payloadBuffer().getBytes(p.payloadIndex() - 4, b);
        out.add(b);
        f.giveBack(p);
      } else {
        out.add(ByteBufUtil.getBytes(p.raw()));
        p.release();
      }
    }
    return out;
  }

  @Test
  void commandsSplitAnywhereComeOutWholeInPlace() {
    byte[] all = all();
    MysqlPacket view = MysqlPacket.borrowedView();
    for (int a = 0; a <= all.length; a += 3) {
      for (int b = a; b <= all.length; b += 41) {
        PacketFramer f = new PacketFramer(1 << 20);
        List<byte[]> got = new ArrayList<>();
        f.add(ALLOC, ALLOC.buffer().writeBytes(all, 0, a));
        got.addAll(drainInPlace(f, view));
        f.add(ALLOC, ALLOC.buffer().writeBytes(all, a, b - a));
        got.addAll(drainInPlace(f, view));
        f.add(ALLOC, ALLOC.buffer().writeBytes(all, b, all.length - b));
        got.addAll(drainInPlace(f, view));
        assertEquals(COMMANDS.length, got.size(), "cuts at " + a + ", " + b);
        for (int i = 0; i < COMMANDS.length; i++) {
          assertArrayEquals(COMMANDS[i], got.get(i), "command " + i + ", cuts at " + a + ", " + b);
        }
        f.release();
      }
    }
  }

  /**
   * A read that is exactly one packet: the view holds the read buffer; given away it is that
   * buffer (no copy); kept it becomes a packet of that buffer; neither, it is released when the
   * view is given back.
   */
  @Test
  void aBorrowedReadThatIsOnePacketIsGivenAwayKeptOrReleasedWhole() {
    MysqlPacket view = MysqlPacket.borrowedView();
    PacketFramer f = new PacketFramer(1 << 20);
    ByteBuf read = ALLOC.buffer().writeBytes(COMMANDS[1]);
    f.add(ALLOC, read);
    assertSame(view, f.poll(ALLOC, view));
    assertEquals(Mysql.COM_STMT_EXECUTE, view.header());
    ByteBuf sent = view.takeRaw();
    assertSame(read, sent, "the read buffer itself goes to the backend");
    assertThrows(IllegalStateException.class, view::takeRaw, "a command written twice");
    assertThrows(IllegalStateException.class, view::keep, "a command kept after it was written");
    f.giveBack(view);
    assertEquals(1, sent.refCnt(), "giving the view back leaves the buffer to whoever took it");
    sent.release();

    ByteBuf second = ALLOC.buffer().writeBytes(COMMANDS[2]);
    f.add(ALLOC, second);
    assertSame(view, f.poll(ALLOC, view));
    MysqlPacket kept = view.keep();
    f.giveBack(view);
    assertThrows(IllegalStateException.class, view::header, "the view used after it was given back");
    assertArrayEquals(COMMANDS[2], ByteBufUtil.getBytes(kept.raw()));
    assertEquals(1, second.refCnt());
    kept.release();
    assertEquals(0, second.refCnt());

    ByteBuf third = ALLOC.buffer().writeBytes(COMMANDS[0]);
    f.add(ALLOC, third);
    assertSame(view, f.poll(ALLOC, view));
    view.release();   // does nothing: the bytes are the framer's until given back
    assertEquals(1, third.refCnt());
    f.giveBack(view);
    assertEquals(0, third.refCnt(), "a view neither written nor kept releases the read");
    f.release();
  }

  /**
   * Several packets in one read: each is lent in place in turn; one given away is a copy, one
   * kept a slice that outlives the read, and the framing goes on past both.
   */
  @Test
  void packetsSharingAReadAreCopiedWhenWrittenAndSlicedWhenKept() {
    MysqlPacket view = MysqlPacket.borrowedView();
    PacketFramer f = new PacketFramer(1 << 20);
    f.add(ALLOC, ALLOC.buffer().writeBytes(all()));
    assertSame(view, f.poll(ALLOC, view));
    ByteBuf sent = view.takeRaw();
    f.giveBack(view);
    assertSame(view, f.poll(ALLOC, view));
    MysqlPacket kept = view.keep();
    f.giveBack(view);
    assertSame(view, f.poll(ALLOC, view));
    assertArrayEquals(COMMANDS[2], ByteBufUtil.getBytes(view.raw()));
    f.giveBack(view);
    assertNull(f.poll(ALLOC, view));
    assertArrayEquals(COMMANDS[0], ByteBufUtil.getBytes(sent));
    assertArrayEquals(COMMANDS[1], ByteBufUtil.getBytes(kept.raw()));
    sent.release();
    kept.release();
    f.release();
  }
}
