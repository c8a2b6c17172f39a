package io.mproxy.protocol.mongo;

import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.mproxy.protocol.mongo.command.MongoCommand;
import io.mproxy.protocol.mongo.command.MongoFingerprint;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What the MongoDB session reads of each forwarded operation, and what the backend side reads of
 * its reply, for a driver's point find ({@code find(eq("_id", n)).first()}): the OP_MSG's
 * structure, the body's validation, the command scan (name, namespace, session fields), the
 * fingerprint, and the reply scan (ok, cursor id). Lives in the MongoDB module's package because
 * the reply scan is package-private there.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Thread)
public class MongoScanBenchmark {

  private static final int MAX_BSON_DEPTH = 100;

  private MongoFrame request;
  private MongoFrame reply;
  /** The connection's scanner, as {@code MongoSession} keeps one. */
  private final BsonScanner scanner = new BsonScanner();

  @Setup(Level.Trial)
  public void setUp() {
    UUID session = new UUID(0x1234_5678_9abc_def0L, 0x0fed_cba9_8765_4321L);
    BsonDocument find = new BsonDocument("find", new BsonString("points"))
        .append("filter", new BsonDocument("_id", new BsonInt32(4242)))
        .append("limit", new BsonInt32(1))
        .append("singleBatch", BsonBoolean.TRUE)
        .append("$db", new BsonString("bench"))
        .append("lsid", new BsonDocument("id", new BsonBinary(session)));
    request = new MongoFrame(MongoReplies.opMsg(UnpooledByteBufAllocator.DEFAULT, 7, 0, 0, find));
    BsonDocument found = new BsonDocument("cursor", new BsonDocument("firstBatch",
        new BsonArray(java.util.List.of(new BsonDocument("_id", new BsonInt32(4242))
            .append("v", new BsonInt32(123456)))))
        .append("id", new BsonInt64(0))
        .append("ns", new BsonString("bench.points")))
        .append("ok", new BsonDouble(1.0));
    reply = new MongoFrame(MongoReplies.opMsg(UnpooledByteBufAllocator.DEFAULT, 8, 7, 0, found));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    request.release();
    reply.release();
  }

  /** Everything the session reads of a request before admission, as {@code MongoSession.onMsg} and {@code forward} do. */
  @Benchmark
  public void request(Blackhole bh) {
    OpMsg msg = OpMsg.parse(request);
    BsonScanner body = scanner.reset(request.content(), msg.bodyStart(), msg.bodyStart() + msg.bodyLength());
    MongoCommand cmd = MongoCommand.scan(request, msg, body, MAX_BSON_DEPTH);
    bh.consume(cmd);
    bh.consume(MongoFingerprint.of(cmd));
  }

  /** What the reply path reads of a backend's answer: ok and the cursor it leaves. */
  @Benchmark
  public ReplyScan reply() {
    return ReplyScan.of(reply, scanner);
  }
}
