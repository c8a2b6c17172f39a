package io.mproxy.protocol.mongo.command;

import io.mproxy.core.request.RequestKind;
import java.util.Set;

/**
 * How commands are treated: which kind each is for metering, which create cursors, and which
 * the proxy answers itself. Names are matched as drivers send them (case-sensitive, as the
 * server does), with the legacy spellings {@code ismaster}/{@code isMaster} both handled.
 */
public final class MongoCommands {

  private static final Set<String> READS = Set.of("find", "aggregate", "count", "distinct",
      "getMore", "listCollections", "listIndexes", "listDatabases", "dbStats", "collStats",
      "geoNear", "mapReduce", "explain", "countDocuments");
  private static final Set<String> WRITES = Set.of("insert", "update", "delete", "findAndModify",
      "bulkWrite", "create", "drop", "createIndexes", "dropIndexes", "dropDatabase", "renameCollection",
      "collMod", "createView");
  private static final Set<String> TRANSACTION_CONTROL = Set.of("commitTransaction", "abortTransaction");
  private static final Set<String> SESSION = Set.of("endSessions", "killCursors", "startSession",
      "refreshSessions", "killSessions", "killAllSessions");
  private static final Set<String> CURSOR_CREATORS = Set.of("find", "aggregate", "listCollections",
      "listIndexes");
  private static final Set<String> HANDSHAKES = Set.of("hello", "isMaster", "ismaster");

  private MongoCommands() {
  }

  public static RequestKind kind(MongoCommand c) {
    String n = c.name();
    if (n.equals("aggregate") && c.writeStage()) {
      return RequestKind.WRITE;
    }
    if (READS.contains(n)) {
      return RequestKind.READ;
    }
    if (WRITES.contains(n)) {
      return RequestKind.WRITE;
    }
    if (TRANSACTION_CONTROL.contains(n)) {
      return RequestKind.TRANSACTION_CONTROL;
    }
    if (SESSION.contains(n)) {
      return RequestKind.SESSION;
    }
    return RequestKind.ADMIN;
  }

  /** Commands whose reply may carry a cursor ({@code cursor.id}) that later getMores continue. */
  public static boolean createsCursor(String name) {
    return CURSOR_CREATORS.contains(name);
  }

  /** {@code hello} and the legacy {@code isMaster}: the proxy answers these itself. */
  public static boolean isHandshake(String name) {
    return HANDSHAKES.contains(name);
  }

  /** Commands that may run before authentication, as on a real server. */
  public static boolean allowedBeforeAuth(String name) {
    return isHandshake(name) || name.equals("saslStart") || name.equals("saslContinue")
        || name.equals("ping") || name.equals("buildInfo") || name.equals("buildinfo")
        || name.equals("getnonce") || name.equals("endSessions") || name.equals("authenticate");
  }
}
