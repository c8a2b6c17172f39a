package io.mproxy.protocol.mongo.command;

import io.mproxy.core.fingerprint.ShapeInterner;
import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * A command's shape with values removed: {@code find users {age:{$gt:?},name:?}}. The shape is
 * the filter that decides the command's cost — {@code filter} of find, {@code query} of count,
 * distinct and findAndModify, the first {@code q} of update and delete (in the body or a
 * document sequence), the stage names of an aggregate pipeline with the shape of a leading
 * {@code $match}. Bounded in depth and length, so hostile filters cannot blow it up.
 *
 * <p>Built in one reusable builder per thread and handed out through a {@link ShapeInterner}, so
 * a shape seen before costs no builder, no array and no string: an operation's fingerprint was
 * about a tenth of the bytes the MongoDB path allocated per point find.
 */
public final class MongoFingerprint {

  static final int MAX_LENGTH = 256;
  private static final int MAX_DEPTH = 6;
  private static final int MAX_ARRAY_ITEMS = 4;
  private static final ShapeInterner SHAPES = new ShapeInterner(4096);
  private static final FastThreadLocal<StringBuilder> BUILDER = new FastThreadLocal<>() {
    @Override
    protected StringBuilder initialValue() {
      return new StringBuilder(MAX_LENGTH + 64);
    }
  };

  private MongoFingerprint() {
  }

  /**
   * The shape of {@code cmd}: the one its {@link MongoCommand#scan scan} built from the body, or
   * for a command without a filter its name and collection.
   */
  public static String of(MongoCommand cmd) {
    String built = cmd.shape();
    if (built != null) {
      return built;
    }
    return cap(begin(cmd));
  }

  /**
   * Starts the shape of a command whose body has one ({@link #filterKey} or an aggregate), in
   * the thread's builder, while its scan walks the body: the name and collection.
   */
  static StringBuilder begin(MongoCommand cmd) {
    StringBuilder sb = BUILDER.get();
    sb.setLength(0);
    sb.append(cmd.name());
    if (cmd.collection() != null) {
      sb.append(' ').append(cmd.collection());
    }
    return sb;
  }

  /**
   * Adds the current top-level element of the body to the shape when it is the one that decides
   * the command's cost; the scanner is left on the element. True when it was.
   */
  static boolean element(BsonScanner body, StringBuilder sb, String filterKey, boolean aggregate) {
    if (aggregate && body.nameEquals("pipeline") && body.isDocument()) {
      sb.append(' ');
      long back = body.enter();
      pipeline(body, sb);
      body.exit(back);
      return true;
    }
    if (filterKey != null && body.nameEquals(filterKey) && body.isDocument()) {
      sb.append(' ');
      long back = body.enter();
      if (filterKey.equals("updates") || filterKey.equals("deletes")) {
        if (body.next() && body.type() == BsonScanner.DOCUMENT) {
          body.enter();
          firstQ(body, sb);
        }
      } else {
        shape(body, sb, 0, true);
      }
      body.exit(back);
      return true;
    }
    return false;
  }

  /**
   * Ends a shape {@link #begin begun} in a scan: an update's or delete's statements sent as a
   * document sequence instead of in the body, then the shared string.
   */
  static String finish(MongoFrame frame, OpMsg msg, StringBuilder sb, String filterKey, boolean found) {
    if (!found && filterKey != null && (filterKey.equals("updates") || filterKey.equals("deletes"))) {
      for (OpMsg.Sequence seq : msg.sequences()) {
        if (seq.identifier().equals(filterKey) && seq.documentsStart() < seq.documentsEnd()) {
          sb.append(' ');
          firstQ(BsonScanner.of(frame.content(), seq.documentsStart(), seq.documentsEnd()), sb);
        }
      }
    }
    return cap(sb);
  }

  /** The body field whose shape is the command's, or null (an aggregate's pipeline is read apart). */
  static String filterKey(String name) {
    switch (name) {
      case "find": return "filter";
      case "count":
      case "distinct":
      case "findAndModify": return "query";
      case "update": return "updates";
      case "delete": return "deletes";
      default: return null;
    }
  }

  /** The shape of {@code q} in the entered statement document. */
  private static void firstQ(BsonScanner statement, StringBuilder sb) {
    if (statement.find("q") && statement.isDocument()) {
      statement.enter();
      shape(statement, sb, 0, true);
    }
  }

  private static void pipeline(BsonScanner stages, StringBuilder sb) {
    sb.append('[');
    boolean firstStage = true;
    while (stages.next() && sb.length() < MAX_LENGTH) {
      if (stages.type() != BsonScanner.DOCUMENT) {
        continue;
      }
      long back = stages.enter();
      if (!stages.next()) {
        stages.exit(back);
        continue;
      }
      if (!firstStage) {
        sb.append(',');
      }
      boolean match = stages.nameEquals("$match");
      stages.appendName(sb);
      if (firstStage && match && stages.type() == BsonScanner.DOCUMENT) {
        stages.enter();
        shape(stages, sb, 0, true);
      }
      stages.exit(back);
      firstStage = false;
    }
    sb.append(']');
  }

  private static void shape(BsonScanner doc, StringBuilder sb, int depth, boolean isDoc) {
    if (depth >= MAX_DEPTH) {
      sb.append("...");
      return;
    }
    sb.append(isDoc ? '{' : '[');
    boolean first = true;
    int items = 0;
    while (doc.next()) {
      if (sb.length() >= MAX_LENGTH) {
        break;
      }
      if (!isDoc && ++items > MAX_ARRAY_ITEMS) {
        sb.append(",...");
        break;
      }
      if (!first) {
        sb.append(',');
      }
      first = false;
      if (isDoc) {
        doc.appendName(sb);
        sb.append(':');
      }
      if (doc.type() == BsonScanner.DOCUMENT) {
        long back = doc.enter();
        shape(doc, sb, depth + 1, true);
        doc.exit(back);
      } else if (doc.type() == BsonScanner.ARRAY && isDoc && doc.nameIsOperator()
          && !doc.nameEquals("$in") && !doc.nameEquals("$nin") && !doc.nameEquals("$all")) {
        long back = doc.enter();
        shape(doc, sb, depth + 1, false);
        doc.exit(back);
      } else {
        sb.append('?');
      }
    }
    sb.append(isDoc ? '}' : ']');
  }

  private static String cap(StringBuilder sb) {
    if (sb.length() > MAX_LENGTH) {
      sb.setLength(MAX_LENGTH);
    }
    String shape = SHAPES.intern(sb);
    if (sb.capacity() > 4 * (MAX_LENGTH + 64)) {
      BUILDER.remove(); // a huge name grew it: do not keep that much per thread
    }
    return shape;
  }
}
