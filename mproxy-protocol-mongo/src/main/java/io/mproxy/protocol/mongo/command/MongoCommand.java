package io.mproxy.protocol.mongo.command;

import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoCodecException;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.mproxy.protocol.mongo.codec.Utf8Interner;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * What routing, classification and metering need of one OP_MSG command, read from its body in
 * one pass without decoding the rest: the command name (the body's first key), its target
 * ({@code $db} and the collection), the session and transaction fields, the cursor a
 * {@code getMore}/{@code killCursors} addresses, the read preference, {@code comment}, and the
 * {@link MongoFingerprint fingerprint}. The same pass validates the body: the top level is
 * walked once, not once to validate, once to scan and once to fingerprint.
 */
public final class MongoCommand {

  /** No {@code txnNumber}. */
  public static final long NO_TXN = Long.MIN_VALUE;

  private String name = "";
  private String database;
  private String collection;
  private String lsid;
  /**
   * Where the {@code lsid} document starts, or -1. Drivers send an lsid with nearly every
   * command (implicit sessions), but only transactions route by it, so its hex form is built
   * only for commands that start or continue one.
   */
  private int lsidDocument = -1;
  private long txnNumber = NO_TXN;
  private boolean startTransaction;
  private boolean autocommitFalse;
  private String comment;
  private String readPreference;
  private long cursorId;
  private boolean writeStage;
  private boolean maxTimeMs;
  private long maxTimeMsValue;
  /** The fingerprint built in the scan, or null for a command whose shape is its name and collection. */
  private String shape;

  private MongoCommand() {
  }

  /**
   * Command names, databases and collections as shared strings: a handful of distinct ones per
   * deployment, read from every command.
   */
  private static final Utf8Interner NAMES = new Utf8Interner(1024);

  /**
   * Validates and scans the body of {@code msg} with {@code body}, a scanner aimed at it (a
   * connection reuses one), in one walk of its top level: each element's nested documents are
   * validated (at most {@code maxDepth} levels in all) before anything reads it, so bad BSON
   * raises the same {@link MongoCodecException} as validating the whole body first would.
   */
  public static MongoCommand scan(MongoFrame frame, OpMsg msg, BsonScanner body, int maxDepth) {
    if (maxDepth <= 0) {
      throw new MongoCodecException("BSON nested too deeply");
    }
    MongoCommand c = new MongoCommand();
    BsonScanner s = body;
    boolean first = true;
    StringBuilder shape = null;
    String filterKey = null;
    boolean aggregate = false;
    boolean shaped = false;
    while (s.next()) {
      s.validateValue(maxDepth - 1);
      if (first) {
        first = false;
        c.name = s.name(NAMES);
        c.firstValue(s);
        filterKey = MongoFingerprint.filterKey(c.name);
        aggregate = c.name.equals("aggregate");
        if (filterKey != null || aggregate) {
          shape = MongoFingerprint.begin(c);
        }
        continue;
      }
      c.field(s);
      if (shape != null) {
        shaped |= MongoFingerprint.element(s, shape, filterKey, aggregate);
      }
    }
    if (first) {
      throw new MongoCodecException("OP_MSG body is an empty document", frame.requestId());
    }
    if (shape != null) {
      c.shape = MongoFingerprint.finish(frame, msg, shape, filterKey, shaped);
    }
    if (c.lsidDocument >= 0 && (c.startTransaction || c.autocommitFalse)) {
      c.lsid = lsidHex(BsonScanner.of(frame.content(), c.lsidDocument));
    }
    return c;
  }

  /** {@code lsid.id} as hex, or null when it is not a binary. */
  private static String lsidHex(BsonScanner l) {
    return l.find("id") && l.type() == BsonScanner.BINARY ? HexFormat.of().formatHex(l.binaryValue()) : null;
  }

  private void firstValue(BsonScanner s) {
    if (s.isString()) {
      collection = s.stringValue(NAMES);
    }
    if (name.equals("getMore") && s.isNumber()) {
      cursorId = s.longValue();
    }
  }

  /** Hint fields read from a {@code comment: { mproxy: {...} }} document; more are ignored. */
  private static final int MAX_HINT_FIELDS = 16;

  /**
   * A {@code comment} document carrying {@code mproxy: { priority: "low", timeout_ms: 500 }}, as
   * the {@code mproxy: k=v …} text the hint parser reads; null when it has no such field.
   */
  private static String hintDocument(BsonScanner comment) {
    if (!comment.find("mproxy") || comment.type() != BsonScanner.DOCUMENT) {
      return null;
    }
    BsonScanner h = comment;
    h.enter();
    StringBuilder text = new StringBuilder("mproxy:");
    for (int n = 0; n < MAX_HINT_FIELDS && h.next(); n++) {
      String value = h.isString() ? h.stringValue() : h.isNumber() ? Long.toString(h.longValue()) : null;
      if (value != null && value.indexOf(' ') < 0) {
        text.append(' ').append(h.name()).append('=').append(value);
      }
    }
    return text.toString();
  }

  private void field(BsonScanner s) {
    if (s.nameEquals("$db")) {
      database = s.isString() ? s.stringValue(NAMES) : null;
    } else if (s.nameEquals("lsid") && s.type() == BsonScanner.DOCUMENT) {
      lsidDocument = s.valueStart();
    } else if (s.nameEquals("txnNumber") && s.isNumber()) {
      txnNumber = s.longValue();
    } else if (s.nameEquals("startTransaction") && s.type() == BsonScanner.BOOLEAN) {
      startTransaction = s.booleanValue();
    } else if (s.nameEquals("autocommit") && s.type() == BsonScanner.BOOLEAN) {
      autocommitFalse = !s.booleanValue();
    } else if (s.nameEquals("comment")) {
      if (s.type() == BsonScanner.DOCUMENT) {
        long back = s.enter();
        comment = hintDocument(s);
        s.exit(back);
      } else {
        comment = s.stringOrNull();
      }
    } else if (s.nameEquals("$readPreference") && s.type() == BsonScanner.DOCUMENT) {
      long back = s.enter();
      if (s.find("mode")) {
        readPreference = s.isString() ? s.stringValue(NAMES) : null;
      }
      s.exit(back);
    } else if (s.nameEquals("cursors") && name.equals("killCursors") && s.type() == BsonScanner.ARRAY) {
      long back = s.enter();
      if (s.next() && s.isNumber()) {
        cursorId = s.longValue();
      }
      s.exit(back);
    } else if (s.nameEquals("collection") && name.equals("getMore")) {
      collection = s.stringOrNull();
    } else if (s.nameEquals("maxTimeMS")) {
      maxTimeMs = true;
      maxTimeMsValue = s.isNumber() ? Math.max(0, s.longValue()) : 0;
    } else if (s.nameEquals("pipeline") && s.type() == BsonScanner.ARRAY) {
      long back = s.enter();
      writeStage = hasWriteStage(s);
      s.exit(back);
    }
  }

  /** Whether the last stage of the entered pipeline array is {@code $out} or {@code $merge}. */
  private static boolean hasWriteStage(BsonScanner pipeline) {
    boolean write = false;
    while (pipeline.next()) {
      if (pipeline.type() == BsonScanner.DOCUMENT) {
        long back = pipeline.enter();
        if (pipeline.next()) {
          write = pipeline.nameEquals("$out") || pipeline.nameEquals("$merge");
        }
        pipeline.exit(back);
      }
    }
    return write;
  }

  /** The fingerprint the scan built, or null when it is the name and collection alone. */
  String shape() {
    return shape;
  }

  /** The command's name as sent, e.g. {@code find}, {@code isMaster}. */
  public String name() {
    return name;
  }

  /** The name in lower case, for matching names drivers spell in more than one way. */
  public String lowerName() {
    return name.toLowerCase(Locale.ROOT);
  }

  /** {@code $db}, or null. */
  public String database() {
    return database;
  }

  /** The collection (the first key's string value), or null. */
  public String collection() {
    return collection;
  }

  /**
   * The logical session id as hex, for a command that starts or continues a transaction
   * ({@code startTransaction} or {@code autocommit: false}); null when the command carries none
   * or is not part of a transaction.
   */
  public String lsid() {
    return lsid;
  }

  public long txnNumber() {
    return txnNumber;
  }

  public boolean startTransaction() {
    return startTransaction;
  }

  /** Part of a multi-statement transaction: {@code autocommit: false} with a txnNumber. */
  public boolean inTransaction() {
    return autocommitFalse && txnNumber != NO_TXN && lsid != null;
  }

  public String comment() {
    return comment;
  }

  /** {@code $readPreference.mode}, or null. */
  public String readPreference() {
    return readPreference;
  }

  /** Whether the read preference allows a secondary. */
  public boolean secondaryOk() {
    return readPreference != null && !readPreference.equals("primary");
  }

  /** The cursor a {@code getMore} continues or the first one a {@code killCursors} kills, else 0. */
  public long cursorId() {
    return cursorId;
  }

  /** The client's own {@code maxTimeMS} when it is a number, else 0. */
  public long maxTimeMsValue() {
    return maxTimeMsValue;
  }

  /** Whether the client set its own {@code maxTimeMS}. */
  public boolean hasMaxTimeMs() {
    return maxTimeMs;
  }

  /**
   * Whether the proxy may add {@code maxTimeMS} for a hinted timeout: a read the server bounds
   * that way ({@code find}, {@code aggregate} without {@code $out}/{@code $merge}, {@code count},
   * {@code distinct}), outside a transaction, without the client's own {@code maxTimeMS}.
   */
  public boolean acceptsMaxTimeMs() {
    return !maxTimeMs && !inTransaction() && !writeStage
        && in(name, "find", "aggregate", "count", "distinct");
  }

  /** An aggregate whose pipeline ends in {@code $out} or {@code $merge}. */
  public boolean writeStage() {
    return writeStage;
  }

  @Override
  public String toString() {
    return "MongoCommand[" + name + " db=" + database + " coll=" + collection
        + (lsid != null ? " lsid=" + lsid : "") + (txnNumber != NO_TXN ? " txn=" + txnNumber : "")
        + (cursorId != 0 ? " cursor=" + cursorId : "") + "]";
  }

  static boolean in(String name, String... names) {
    return Arrays.asList(names).contains(name);
  }
}
