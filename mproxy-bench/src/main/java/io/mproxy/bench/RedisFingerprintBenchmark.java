package io.mproxy.bench;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.command.CommandInfo;
import io.mproxy.protocol.redis.command.RedisCommandTable;
import io.mproxy.protocol.redis.command.RedisFingerprint;
import io.netty.buffer.ByteBufAllocator;
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
 * What a Redis session does per command before admission: look the command up in the command
 * table and compute its fingerprint ({@link RedisFingerprint#of}), which runs for every request.
 * {@code command} picks a shape: a plain numeric key, a long hex (hash-like) key, a
 * multi-key MSET and a hash write.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Thread)
public class RedisFingerprintBenchmark {

  @Param({"GET", "SET_HEX", "MSET", "HSET"})
  public String command;

  private RespFrame frame;
  private CommandInfo info;

  @Setup(Level.Trial)
  public void setUp() {
    ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    switch (command) {
      case "GET":
        frame = RespFrame.command(alloc, "GET", "user:12345:profile");
        break;
      case "SET_HEX":
        frame = RespFrame.command(alloc, "SET", "session:9f86d081884c7d659a2feaa0c55ad015", "v");
        break;
      case "MSET":
        frame = RespFrame.command(alloc, "MSET", "user:1:name", "a", "user:2:name", "b",
            "cart:77", "c", "user:3:name", "d");
        break;
      case "HSET":
        frame = RespFrame.command(alloc, "HSET", "order:2024-000123", "status", "paid");
        break;
      default:
        throw new IllegalArgumentException("command: " + command);
    }
    info = RedisCommandTable.standard().lookup(frame);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    frame.release();
  }

  /** The command table lookup alone (name cached in the frame after the first call). */
  @Benchmark
  public CommandInfo lookup() {
    return RedisCommandTable.standard().lookup(frame);
  }

  /** The fingerprint of an already looked-up command. */
  @Benchmark
  public String fingerprint() {
    return RedisFingerprint.of(frame, info);
  }
}
