package io.mproxy.core.sql;

import io.mproxy.core.fingerprint.ShapeInterner;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Classification and fingerprint of statement texts, remembered so that the per-request path
 * scans a text once at most. Two uses, two keys:
 * <ul>
 *   <li>{@link #ofStatement}: texts that repeat verbatim (extended-protocol Parse, prepared
 *       statements) are looked up by their text: no scan at all after the first;</li>
 *   <li>{@link #ofQuery}: texts with literals inline (simple query protocol) differ every time,
 *       so they are fingerprinted (one scan) and the classification is looked up by the
 *       fingerprint: literals never change what a statement does.</li>
 * </ul>
 * Both maps are bounded: when one reaches its capacity it is emptied and refills with what is
 * current (a workload has far fewer shapes than that; a flood of unique shapes costs one scan
 * each, as without the cache). Thread-safe: one instance serves every session of a protocol.
 */
public final class SqlShapes {

  /** A statement's classification and fingerprint. */
  public record Shape(SqlClassification classification, String fingerprint) {
  }

  private final SqlDialect dialect;
  private final int capacity;
  private final ConcurrentHashMap<String, Shape> byText = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Shape> byFingerprint = new ConcurrentHashMap<>();
  /** Fingerprint strings of recent queries, so a repeated shape is one shared string. */
  private final ShapeInterner fingerprints = new ShapeInterner(4096);

  public SqlShapes(SqlDialect dialect, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.dialect = dialect;
    this.capacity = capacity;
  }

  /** The shape of a text that is likely to come again verbatim. */
  public Shape ofStatement(String sql) {
    Shape shape = byText.get(sql);
    if (shape != null) {
      return shape;
    }
    shape = new Shape(SqlClassifier.classify(dialect, sql), SqlFingerprint.of(dialect, sql));
    if (byText.size() >= capacity) {
      byText.clear();
    }
    byText.put(sql, shape);
    return shape;
  }

  /**
   * The shape of a text with its literals inline: fingerprinted, classified by fingerprint. The
   * text may be a view of a network buffer: it is not kept.
   */
  public Shape ofQuery(CharSequence sql) {
    String fingerprint = SqlFingerprint.of(dialect, sql, fingerprints);
    if (SqlFingerprint.isTruncated(fingerprint)) {
      // A truncated fingerprint does not cover the whole text: classify the text itself.
      return new Shape(SqlClassifier.classify(dialect, sql.toString()), fingerprint);
    }
    Shape shape = byFingerprint.get(fingerprint);
    if (shape == null) {
      shape = new Shape(SqlClassifier.classify(dialect, sql.toString()), fingerprint);
      if (byFingerprint.size() >= capacity) {
        byFingerprint.clear();
      }
      byFingerprint.put(fingerprint, shape);
    }
    return shape;
  }

  /**
   * The fingerprint of {@code sql} alone (no classification), the same shared string as {@link
   * #ofQuery} gives for an equal shape: for callers that remember what they learn per shape. The text
   * may be a view of a network buffer: it is not kept.
   */
  public String fingerprint(CharSequence sql) {
    return SqlFingerprint.of(dialect, sql, fingerprints);
  }

  /** Shapes remembered now (both maps); for tests and status. */
  public int size() {
    return byText.size() + byFingerprint.size();
  }
}
