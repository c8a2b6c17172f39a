package io.mproxy.protocol.redis.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.mproxy.protocol.redis.codec.RespFrameDecoder.Mode;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Short {@code $}/{@code *} header lines are read eight bytes at a time when eight bytes are at
 * hand, and byte by byte otherwise. Whatever the split of the input, both must give the same
 * frames (bytes and argument positions), the same errors at the same point, and the same count
 * of bytes examined: every input here is decoded whole (the eight-byte path wherever it applies),
 * split in two at every byte, and byte by byte (always the byte-by-byte path), and compared.
 */
class RespFrameDecoderHeaderTest {

  private static final String[] REQUESTS = {
      "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n",
      "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n",
      "*1\r\n$4\r\nPING\r\n",
      "*2\r\n$3\r\nGET\r\n$00012\r\nabcdefghijkl\r\n",
      "*2\r\n$3\r\nGET\r\n$99999\r\n" + "v".repeat(99_999) + "\r\n",
      "*2\r\n$3\r\nGET\r\n$100000\r\n" + "w".repeat(100_000) + "\r\n",
      "*00002\r\n$0\r\n\r\n$1\r\nx\r\n",
      "*0\r\n*1\r\n$1\r\nz\r\n",
      "PING inline\r\n*1\r\n$4\r\nPING\r\n",
      // errors: each must be the same error whatever the split
      "*2\r\n$3\r\nGET\r\n*1\r\n$1\r\nx\r\n",
      "*1\r\n$-1\r\n12345678",
      "*1\r\n$12a\r\nxxxxxxxxxxxx",
      "*1\r\n$12\r\rxxxxxxxxxxxxxx",
      "*1\r\n$12\nxxxxxxxxxxxxxxx",
      "*1\r\n$12x\nxxxxxxxxxxxxxxx",
      "*2x\n$3\r\nGET\r\n$1\r\nk\r\n",
      "*1\r\n$\r\nxxxxxxxxxxxxxxx",
      "*1x\r\n$1\r\nxxxxxxxxxxxxxxx",
      "*-1\r\n*1\r\n$1\r\nx\r\n",
      "*1\r\n$3\r\nGETxx\r\n\r\n\r\n",
      "*1\r\n$99999\r\nxxxxxxxxxxxx",
  };

  private static final String[] REPLIES = {
      "$5\r\nhello\r\n*2\r\n:1\r\n$-1\r\n*-1\r\n+OK\r\n",
      "*3\r\n$3\r\nfoo\r\n$0\r\n\r\n*1\r\n$2\r\nab\r\n$-1\r\n",
      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$00003\r\nabc\r\n",
      "%1\r\n$1\r\nk\r\n*1\r\n:2\r\n|1\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nv\r\n",
      "*2\r\n$3\r\nabc\r\n$3\r\nabcXY\r\n",
      "$12x\r\n123456789012\r\n",
      "$3 \nabc\r\n+OK\r\n",
  };

  /** What a decoding produced: each frame's bytes and argument positions, then the error if any, then bytes examined. */
  private static List<String> decode(Mode mode, int max, byte[] data, int[] cuts) {
    RespFrameDecoder decoder = new RespFrameDecoder(mode, max);
    EmbeddedChannel ch = RespTestSupport.untrackedChannel(decoder);
    List<String> seen = new ArrayList<>();
    int at = 0;
    try {
      for (int c = 0; c <= cuts.length; c++) {
        int end = c < cuts.length ? cuts[c] : data.length;
        if (end > at) {
          ch.writeInbound(Unpooled.wrappedBuffer(data, at, end - at));
        }
        at = end;
        drain(ch, seen);
      }
    } catch (RespCodecException e) {
      // frames decoded before the error in the same read are still delivered
      drain(ch, seen);
      seen.add("error: " + e.getMessage());
    }
    seen.add("scanned " + decoder.scannedBytes());
    ch.finishAndReleaseAll();
    return seen;
  }

  private static void drain(EmbeddedChannel ch, List<String> seen) {
    for (Object o; (o = ch.readInbound()) != null; ) {
      RespFrame f = (RespFrame) o;
      StringBuilder sb = new StringBuilder(RespTestSupport.text(f)).append(" type=").append((char) f.type());
      for (int i = 0; i < f.argCount(); i++) {
        sb.append(' ').append(f.argOffset(i)).append('+').append(f.argLength(i));
      }
      seen.add(sb.toString());
      f.release();
    }
  }

  private static void checkEverySplit(Mode mode, int max, String input) {
    byte[] data = input.getBytes(StandardCharsets.ISO_8859_1);
    List<String> whole = decode(mode, max, data, new int[0]);
    int[] each = new int[data.length];
    for (int i = 0; i < data.length; i++) {
      each[i] = i + 1;
    }
    if (data.length < 1_000) {
      assertEquals(whole, decode(mode, max, data, each), "byte by byte: " + input);
    }
    for (int split = 1; split < Math.min(data.length, 64); split++) {
      assertEquals(whole, decode(mode, max, data, new int[] {split}), "split at " + split + ": " + input);
    }
    assertEquals(whole, decode(mode, max, data, new int[] {data.length - 1}), "last byte apart: " + input);
  }

  @Test
  void requestHeadersDecodeAlikeAtEverySplit() {
    for (String input : REQUESTS) {
      checkEverySplit(Mode.REQUEST, 1 << 20, input);
    }
  }

  @Test
  void replyHeadersDecodeAlikeAtEverySplit() {
    for (String input : REPLIES) {
      checkEverySplit(Mode.REPLY, 1 << 20, input);
    }
  }

  @Test
  void theFrameLimitCutsHeaderLinesAlike() {
    // limits that end inside, right after and right before a short header line
    for (int max = 1; max <= 40; max++) {
      for (String input : new String[] {REQUESTS[0], REQUESTS[3], REQUESTS[6]}) {
        checkEverySplit(Mode.REQUEST, max, input);
      }
      checkEverySplit(Mode.REPLY, max, REPLIES[0]);
    }
  }

  @Test
  void aPipelineOfGetsIsDecodedWholeWithTheirPositions() {
    String get = REQUESTS[0];
    List<String> frames = decode(Mode.REQUEST, 1 << 20, get.repeat(16).getBytes(StandardCharsets.US_ASCII), new int[0]);
    assertEquals(17, frames.size());
    for (int i = 0; i < 16; i++) {
      assertEquals(get + " type=* 8+3 18+16", frames.get(i));
    }
    // each of the three lines of a GET is examined from its second byte to its LF
    assertEquals("scanned " + 16 * (3 + 3 + 4), frames.get(16));
    assertFalse(frames.get(0).startsWith("error"));
  }
}
