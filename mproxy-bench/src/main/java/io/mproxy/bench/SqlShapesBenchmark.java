package io.mproxy.bench;

import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlShapes;
import java.nio.charset.StandardCharsets;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The shape of a simple query with its literals inline ({@link SqlShapes#ofQuery}), which the
 * PostgreSQL session computes for every simple Query: the fingerprint scan, its interning and
 * the classification looked up by fingerprint. The text is read through a {@link CharSequence}
 * over an ASCII byte array, as the session reads it in place, and its literal changes every
 * call (1,024 texts in turn). {@code query} picks pgbench {@code -S}'s point select, a
 * sysbench-like range select and an insert with a VALUES row.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Thread)
public class SqlShapesBenchmark {

  private static final int TEXTS = 1024;

  @Param({"PGBENCH_S", "RANGE", "INSERT"})
  public String query;

  private final SqlShapes shapes = new SqlShapes(SqlDialect.POSTGRES, 10_000);
  private final Ascii[] texts = new Ascii[TEXTS];
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    for (int i = 0; i < TEXTS; i++) {
      int n = 1 + i * 977 % 1_000_000;
      String sql = switch (query) {
        case "PGBENCH_S" -> "SELECT abalance FROM pgbench_accounts WHERE aid = " + n + ";";
        case "RANGE" -> "SELECT c FROM sbtest1 WHERE id BETWEEN " + n + " AND " + (n + 99) + " ORDER BY c";
        case "INSERT" -> "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + (n % 100) + ", "
            + (n % 10) + ", " + n + ", " + (n % 5000 - 2500) + ", CURRENT_TIMESTAMP);";
        default -> throw new IllegalArgumentException("query: " + query);
      };
      texts[i] = new Ascii(sql.getBytes(StandardCharsets.US_ASCII));
    }
  }

  @Benchmark
  public SqlShapes.Shape ofQuery() {
    Ascii text = texts[next];
    next = (next + 1) & (TEXTS - 1);
    return shapes.ofQuery(text);
  }

  /** An ASCII text read in place, as the PostgreSQL session's view of a Query message. */
  private static final class Ascii implements CharSequence {
    private final byte[] bytes;

    Ascii(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int length() {
      return bytes.length;
    }

    @Override
    public char charAt(int index) {
      if (index < 0 || index >= bytes.length) {
        throw new IndexOutOfBoundsException(index);
      }
      return (char) bytes[index];
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new String(bytes, start, end - start, StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
      return new String(bytes, StandardCharsets.US_ASCII);
    }
  }
}
