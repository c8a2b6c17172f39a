package io.mproxy.bench;

import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link RespFrameDecoder} in a channel pipeline, as the proxy runs it: a batch of
 * {@code pairs} pipelined {@code SET key value} + {@code GET key} commands (REQUEST mode, what
 * clients send) or their replies {@code +OK} + {@code $n value} (REPLY mode, what Redis sends),
 * each pair carrying one value of {@code valueSize} bytes. One op decodes the whole batch
 * ({@code 2 * pairs} frames), delivered in one read ({@code whole}) or in 4 KiB reads
 * ({@code 4k}, which makes the decoder cumulate and resume). A sink after the decoder releases
 * every frame. Input lives in a direct buffer of Netty's default allocator (adaptive in 4.2), the
 * one the server's channels read into, so slices and cumulations cost what they cost there.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Thread)
public class RespDecoderBenchmark {

  private static final int MAX_FRAME_BYTES = 64 * 1024 * 1024;

  @Param({"16", "1024", "65536"})
  public int valueSize;

  @Param({"1", "16"})
  public int pairs;

  @Param({"whole", "4k"})
  public String read;

  private ByteBuf requests;
  private ByteBuf replies;
  private int readBytes;
  private EmbeddedChannel requestChannel;
  private EmbeddedChannel replyChannel;
  private FrameSink requestSink;
  private FrameSink replySink;

  /** Counts and releases every frame that reaches the end of the pipeline. */
  static final class FrameSink extends ChannelInboundHandlerAdapter {
    long frames;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      frames++;
      ReferenceCountUtil.release(msg);
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    switch (read) {
      case "whole":
        readBytes = Integer.MAX_VALUE;
        break;
      case "4k":
        readBytes = 4096;
        break;
      default:
        throw new IllegalArgumentException("read: " + read + " (expected: whole|4k)");
    }
    byte[] value = new byte[valueSize];
    Arrays.fill(value, (byte) 'x');
    requests = ByteBufAllocator.DEFAULT.directBuffer();
    replies = ByteBufAllocator.DEFAULT.directBuffer();
    for (int i = 0; i < pairs; i++) {
      byte[] key = ("key:" + (100_000 + i)).getBytes(StandardCharsets.US_ASCII);
      writeCommand(requests, "SET".getBytes(StandardCharsets.US_ASCII), key, value);
      writeCommand(requests, "GET".getBytes(StandardCharsets.US_ASCII), key);
      replies.writeBytes("+OK\r\n".getBytes(StandardCharsets.US_ASCII));
      writeBulk(replies, value);
    }
    requestSink = new FrameSink();
    replySink = new FrameSink();
    requestChannel = new EmbeddedChannel(
        new RespFrameDecoder(RespFrameDecoder.Mode.REQUEST, MAX_FRAME_BYTES), requestSink);
    replyChannel = new EmbeddedChannel(
        new RespFrameDecoder(RespFrameDecoder.Mode.REPLY, MAX_FRAME_BYTES), replySink);
    verify(requestChannel, requestSink, requests);
    verify(replyChannel, replySink, replies);
  }

  private void verify(EmbeddedChannel ch, FrameSink sink, ByteBuf input) {
    long before = sink.frames;
    feed(ch.pipeline(), input);
    ch.checkException();
    if (sink.frames - before != 2L * pairs) {
      throw new IllegalStateException("decoded " + (sink.frames - before) + " frames, expected " + 2 * pairs);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    requestChannel.checkException();
    replyChannel.checkException();
    if (requestChannel.finish() || replyChannel.finish()) {
      throw new IllegalStateException("frames left over in the channel");
    }
    requests.release();
    replies.release();
  }

  /** Client side: a batch of commands split into frames. */
  @Benchmark
  public long request() {
    feed(requestChannel.pipeline(), requests);
    return requestSink.frames;
  }

  /** Backend side: a batch of replies split into frames. */
  @Benchmark
  public long reply() {
    feed(replyChannel.pipeline(), replies);
    return replySink.frames;
  }

  private void feed(ChannelPipeline pipeline, ByteBuf input) {
    int size = input.readableBytes();
    for (int off = 0; off < size; off += readBytes) {
      int n = Math.min(readBytes, size - off);
      pipeline.fireChannelRead(input.retainedSlice(input.readerIndex() + off, n));
    }
    pipeline.fireChannelReadComplete();
  }

  private static void writeCommand(ByteBuf buf, byte[]... args) {
    buf.writeByte('*').writeBytes(Integer.toString(args.length).getBytes(StandardCharsets.US_ASCII));
    buf.writeByte('\r').writeByte('\n');
    for (byte[] a : args) {
      writeBulk(buf, a);
    }
  }

  private static void writeBulk(ByteBuf buf, byte[] a) {
    buf.writeByte('$').writeBytes(Integer.toString(a.length).getBytes(StandardCharsets.US_ASCII));
    buf.writeByte('\r').writeByte('\n').writeBytes(a).writeByte('\r').writeByte('\n');
  }
}
