package io.mproxy.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Feeds bytes, split into several reads, through a protocol's frontend decoder in an
 * {@link EmbeddedChannel} and checks what every decoder owes the proxy whatever it is given: no
 * exception other than the protocol's own decode error reaches the end of the pipeline, every
 * buffer it was handed is released, no more than one frame's worth of bytes is ever buffered (an
 * oversized length is refused from its header), nothing is emitted after an error, and the
 * channel ends either open with nothing wrong or closed after the protocol's error.
 *
 * <p>The terminal handler stands in for the protocol's session the way the session treats the
 * decoder: it copies and releases every frame, answers a decode error by closing (the session
 * writes the protocol's error first), and lets any other exception travel on to the pipeline's
 * tail, where {@link EmbeddedChannel#checkException()} rethrows it. Shared by every protocol
 * module's decoder fuzz test.
 */
public final class DecoderFuzzHarness {

  /** Executions of {@link #run} in this JVM, for the report in docs/reliability.md. */
  public static final AtomicLong EXECUTIONS = new AtomicLong();

  private static final Field CUMULATION;

  static {
    try {
      CUMULATION = ByteToMessageDecoder.class.getDeclaredField("cumulation");
      CUMULATION.setAccessible(true);
    } catch (NoSuchFieldException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** What the stand-in session does with one decoded message. */
  public interface Consumer {
    /**
     * Copies the message's bytes (null for a decode error object) and releases it. May act on
     * the decoder the way the session would (e.g. switch phase).
     */
    Object consume(Object message);
  }

  /** What one run observed. */
  public record Outcome(List<byte[]> frames, List<Throwable> errors, int decodeErrorObjects,
      boolean open, int maxBuffered) {

    public boolean failed() {
      return !errors.isEmpty() || decodeErrorObjects > 0;
    }

    public byte[] concatenated() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      frames.forEach(out::writeBytes);
      return out.toByteArray();
    }
  }

  /** Marks a message that reports a decode error in-band (PostgreSQL's decoder does so). */
  public static final Object DECODE_ERROR = new Object();

  private DecoderFuzzHarness() {
  }

  /** Installs the recording leak detector and checks it runs at paranoid; clears old records. */
  public static void beforeContainer() {
    NettyLeakCheck.collectLeaks();
    if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
      throw new AssertionError("fuzz tests run with leak detection at PARANOID, not "
          + ResourceLeakDetector.getLevel());
    }
  }

  /** Fails on any leak Netty reported; prints the executions for the reliability report. */
  public static void afterContainer(String name) {
    System.out.println("[fuzz] " + name + ": " + EXECUTIONS.get() + " executions");
    NettyLeakCheck.assertNoLeaks();
  }

  /** Splits {@code bytes} at the given cut points (taken modulo the length). */
  public static List<byte[]> split(byte[] bytes, List<Integer> cuts) {
    TreeSet<Integer> at = new TreeSet<>();
    for (int cut : cuts) {
      if (bytes.length > 1) {
        at.add(1 + Math.floorMod(cut, bytes.length - 1));
      }
    }
    List<byte[]> chunks = new ArrayList<>();
    int from = 0;
    for (int to : at) {
      chunks.add(java.util.Arrays.copyOfRange(bytes, from, to));
      from = to;
    }
    chunks.add(java.util.Arrays.copyOfRange(bytes, from, bytes.length));
    return chunks;
  }

  /**
   * Runs the chunks through {@code decoder} and checks the invariants every input must keep.
   *
   * @param maxFrameBytes the decoder's limit: the bytes it holds between reads never pass it
   * @param protocolError the decoder's own error (as thrown, or wrapped in a DecoderException)
   */
  public static Outcome run(ByteToMessageDecoder decoder, List<byte[]> chunks, int maxFrameBytes,
      Predicate<Throwable> protocolError, Consumer consumer) {
    EXECUTIONS.incrementAndGet();
    Terminal terminal = new Terminal(protocolError, consumer);
    EmbeddedChannel channel = new EmbeddedChannel(decoder, terminal);
    List<ByteBuf> inputs = new ArrayList<>();
    int maxBuffered = 0;
    try {
      for (byte[] chunk : chunks) {
        ByteBuf in = channel.alloc().buffer(chunk.length).writeBytes(chunk);
        inputs.add(in);
        if (!channel.isOpen()) {
          in.release();
          continue;
        }
        channel.writeInbound(in);
        channel.checkException();
        if (channel.isOpen()) {
          maxBuffered = Math.max(maxBuffered, buffered(decoder));
        }
        if (maxBuffered > maxFrameBytes) {
          throw new AssertionError("decoder holds " + maxBuffered
              + " bytes, more than one frame of at most " + maxFrameBytes);
        }
      }
      channel.checkException();
      boolean open = channel.isOpen();
      boolean failed = !terminal.errors.isEmpty() || terminal.decodeErrors > 0;
      if (failed && open) {
        throw new AssertionError("a decode error left the channel open");
      }
      if (!failed && !open && !terminal.closedDeliberately) {
        throw new AssertionError("channel closed without the protocol's error");
      }
      if (terminal.afterError > 0) {
        throw new AssertionError(terminal.afterError + " message(s) emitted after a decode error");
      }
      for (byte[] frame : terminal.frames) {
        if (frame.length > maxFrameBytes) {
          throw new AssertionError("emitted a frame of " + frame.length + " bytes, over "
              + maxFrameBytes);
        }
      }
      return new Outcome(terminal.frames, terminal.errors, terminal.decodeErrors, open,
          maxBuffered);
    } finally {
      channel.finishAndReleaseAll();
      for (ByteBuf in : inputs) {
        if (in.refCnt() != 0) {
          throw new AssertionError("input buffer not released: refCnt " + in.refCnt());
        }
      }
    }
  }

  private static int buffered(ByteToMessageDecoder decoder) {
    try {
      ByteBuf cumulation = (ByteBuf) CUMULATION.get(decoder);
      return cumulation == null ? 0 : cumulation.readableBytes();
    } catch (IllegalAccessException e) {
      throw new AssertionError(e);
    }
  }

  /** Copies a buffer's readable bytes without changing it. */
  public static byte[] bytes(ByteBuf buf) {
    return ByteBufUtil.getBytes(buf);
  }

  /** Stands in for the session: consumes frames, closes on the protocol's error. */
  private static final class Terminal extends ChannelInboundHandlerAdapter {
    private final Predicate<Throwable> protocolError;
    private final Consumer consumer;
    final List<byte[]> frames = new ArrayList<>();
    final List<Throwable> errors = new ArrayList<>();
    int decodeErrors;
    int afterError;
    boolean closedDeliberately;

    Terminal(Predicate<Throwable> protocolError, Consumer consumer) {
      this.protocolError = protocolError;
      this.consumer = consumer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!errors.isEmpty() || decodeErrors > 0) {
        afterError++;
      }
      Object result = consumer.consume(msg);
      if (result == DECODE_ERROR) {
        decodeErrors++;
        ctx.close();
      } else if (result instanceof byte[] copy) {
        frames.add(copy);
      } else if (result == null) {
        closedDeliberately = true;
        ctx.close();
      } else {
        throw new AssertionError("unexpected consumer result " + result);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Throwable own = protocolError.test(cause) ? cause
          : cause instanceof io.netty.handler.codec.DecoderException
              && protocolError.test(cause.getCause()) ? cause.getCause() : null;
      if (own != null) {
        errors.add(own);
        ctx.close();
        return;
      }
      ctx.fireExceptionCaught(cause);
    }
  }
}
