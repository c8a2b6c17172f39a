package io.mproxy.protocol.postgres;

import io.mproxy.core.hint.HintParser;
import io.mproxy.core.hint.QueryHints;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.sql.SqlClassification;
import io.mproxy.core.sql.SqlClassifier;
import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlFingerprint;
import java.util.Locale;

/**
 * What the proxy needs to know about a statement's text: its kind for metering, its shape for
 * the fingerprint table, and whether it leaves session state behind that transaction pooling
 * cannot carry to another connection.
 */
final class PgSql {

  private PgSql() {
  }

  static SqlClassification classify(String sql) {
    return SqlClassifier.classify(SqlDialect.POSTGRES, sql);
  }

  static RequestKind kind(String sql) {
    return classify(sql).kind();
  }

  static String verb(String sql) {
    return classify(sql).verb();
  }

  /** The statement's shape with literals and lists normalized, comments gone except hints. */
  static String fingerprint(String sql) {
    return SqlFingerprint.of(SqlDialect.POSTGRES, sql);
  }

  /** The statement's leading {@code mproxy:} / {@code RESOURCE_GROUP} hints (Query and Parse text). */
  static QueryHints hints(CharSequence sql) {
    return sql == null ? QueryHints.NONE : HintParser.fromSql(SqlDialect.POSTGRES, sql);
  }

  static String pinReason(String sql) {
    return pinReason(sql, classify(sql));
  }

  /**
   * Why this statement pins a transaction-pooled client to its connection, or null. A SET of a
   * setting the server reports (application_name, DateStyle, TimeZone…) does not pin: the report
   * is tracked and replayed on the next connection. SET LOCAL ends with its transaction.
   */
  static String pinReason(String sql, SqlClassification c) {
    if (!c.setsSessionState()) {
      return null;
    }
    String verb = c.verb();
    switch (verb) {
      case "SET":
        if (PgParams.REPORTED.contains(setName(sql))) {
          return null;
        }
        return "SET of a session setting";
      case "LISTEN":
        return "LISTEN";
      case "PREPARE":
        return "SQL PREPARE";
      case "DECLARE":
        return "DECLARE ... WITH HOLD";
      case "CREATE":
        return "temporary table";
      default:
        return sql.toLowerCase(Locale.ROOT).contains("advisory") ? "session advisory lock"
            : "session state left by " + (verb.isEmpty() ? "a statement" : verb);
    }
  }

  /** The setting a {@code SET [SESSION] name ...} statement changes, lower case. */
  static String setName(String sql) {
    String[] words = sql.trim().toLowerCase(Locale.ROOT).split("[\\s=]+", 4);
    int i = 1;
    if (words.length > i && "session".equals(words[i])) {
      i++;
    }
    return words.length > i ? words[i].replace("\"", "") : "";
  }

  static boolean isDeallocateAll(String sql) {
    return sql.trim().toUpperCase(Locale.ROOT).replaceAll("\\s+", " ").matches("DEALLOCATE (PREPARE )?ALL;?");
  }
}
