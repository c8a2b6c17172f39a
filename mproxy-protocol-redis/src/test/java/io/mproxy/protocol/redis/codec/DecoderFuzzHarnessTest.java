package io.mproxy.protocol.redis.codec;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fuzz harness fails on each fault it exists to catch, so a green fuzz run means something. */
class DecoderFuzzHarnessTest {

  private static final List<byte[]> INPUT = List.of(new byte[] {1, 2, 3}, new byte[] {4, 5});

  @Test
  void aForeignExceptionReachesTheEndOfThePipeline() {
    ByteToMessageDecoder crashing = new ByteToMessageDecoder() {
      @Override
      protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        in.getByte(in.writerIndex() + 10);
      }
    };
    Throwable t = assertThrows(Throwable.class, () -> run(crashing, 100));
    assertTrue(t.toString().contains("IndexOutOfBounds"), t.toString());
  }

  @Test
  void bufferingPastTheLimitFails() {
    ByteToMessageDecoder hoarding = new ByteToMessageDecoder() {
      @Override
      protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      }
    };
    AssertionError e = assertThrows(AssertionError.class, () -> run(hoarding, 4));
    assertTrue(e.getMessage().contains("holds 5 bytes"), e.getMessage());
  }

  @Test
  void anInputKeptAliveFails() {
    ByteBuf[] kept = new ByteBuf[1];
    ByteToMessageDecoder keeping = new ByteToMessageDecoder() {
      @Override
      protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (kept[0] == null) {
          kept[0] = in.retainedSlice();
        }
        in.skipBytes(in.readableBytes());
      }
    };
    try {
      AssertionError e = assertThrows(AssertionError.class, () -> run(keeping, 100));
      assertTrue(e.getMessage().contains("not released"), e.getMessage());
    } finally {
      kept[0].release();
    }
  }

  @Test
  void aFrameAfterTheProtocolErrorFails() {
    ByteToMessageDecoder chatty = new ByteToMessageDecoder() {
      private boolean failed;

      @Override
      protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!failed) {
          failed = true;
          in.skipBytes(in.readableBytes());
          throw new RespCodecException("first");
        }
        out.add(new RespFrame((byte) '+', in.readRetainedSlice(in.readableBytes()), false));
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        ctx.fireChannelRead(new RespFrame((byte) '+', ctx.alloc().buffer(1).writeByte('x'), false));
        super.channelInactive(ctx);
      }
    };
    AssertionError e = assertThrows(AssertionError.class, () -> run(chatty, 100));
    assertTrue(e.getMessage().contains("after a decode error"), e.getMessage());
  }

  private static void run(ByteToMessageDecoder decoder, int max) {
    DecoderFuzzHarness.run(decoder, INPUT, max, RespCodecException.class::isInstance, message -> {
      RespFrame frame = (RespFrame) message;
      try {
        return DecoderFuzzHarness.bytes(frame.content());
      } finally {
        frame.release();
      }
    });
  }
}
