package io.mproxy.protocol.postgres;

import io.mproxy.core.request.RequestKind;
import java.util.Locale;

/**
 * What the proxy needs to know about a statement's text: its kind for metering, its shape for
 * the fingerprint table, and whether it leaves session state behind that transaction pooling
 * cannot carry to another connection.
 */
final class PgSql {

  private PgSql() {
  }

  static RequestKind kind(String sql) {
    String verb = verb(sql);
    return switch (verb) {
      case "SELECT", "SHOW", "VALUES", "TABLE", "FETCH", "EXPLAIN" ->
          upperContains(sql, " FOR UPDATE") || upperContains(sql, " FOR SHARE") || upperContains(sql, " INTO ")
              ? RequestKind.WRITE : RequestKind.READ;
      case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "ABORT" ->
          RequestKind.TRANSACTION_CONTROL;
      case "SET", "RESET", "DISCARD", "LISTEN", "UNLISTEN", "DEALLOCATE", "PREPARE" -> RequestKind.SESSION;
      case "" -> RequestKind.SESSION;
      default -> RequestKind.WRITE;
    };
  }

  /**
   * Why this statement pins a transaction-pooled client to its connection, or null. A SET of a
   * setting the server reports (application_name, DateStyle, TimeZone…) does not pin: the report
   * is tracked and replayed on the next connection. SET LOCAL ends with its transaction.
   */
  static String pinReason(String sql) {
    String verb = verb(sql);
    switch (verb) {
      case "LISTEN":
        return "LISTEN";
      case "PREPARE":
        return "SQL PREPARE";
      case "SET":
        if (upperStartsAfterVerb(sql, "LOCAL ") || upperStartsAfterVerb(sql, "TRANSACTION")
            || PgParams.REPORTED.contains(setName(sql))) {
          return null;
        }
        return "SET of a session setting";
      case "DECLARE":
        return upperContains(sql, " WITH HOLD") ? "DECLARE ... WITH HOLD" : null;
      case "CREATE":
        return upperContains(sql, " TEMP") ? "temporary table" : null;
      default:
        return upperContains(sql, "PG_ADVISORY_LOCK") && !upperContains(sql, "PG_ADVISORY_XACT_LOCK")
            ? "session advisory lock" : null;
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

  static String verb(String sql) {
    int i = skipNoise(sql, 0);
    int start = i;
    while (i < sql.length() && Character.isLetter(sql.charAt(i))) {
      i++;
    }
    return sql.substring(start, i).toUpperCase(Locale.ROOT);
  }

  private static int skipNoise(String sql, int i) {
    int n = sql.length();
    while (i < n) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c) || c == '(') {
        i++;
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        int nl = sql.indexOf('\n', i);
        i = nl < 0 ? n : nl + 1;
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else {
        break;
      }
    }
    return i;
  }

  private static boolean upperContains(String sql, String needle) {
    return sql.toUpperCase(Locale.ROOT).contains(needle);
  }

  private static boolean upperStartsAfterVerb(String sql, String word) {
    String u = sql.toUpperCase(Locale.ROOT).trim();
    return u.startsWith("SET " + word);
  }

  /** The statement's shape with literals replaced; capped so a huge statement cannot make a huge key. */
  static String fingerprint(String sql) {
    StringBuilder out = new StringBuilder(Math.min(sql.length(), 256));
    int n = sql.length();
    int i = 0;
    boolean space = false;
    while (i < n && out.length() < 1024) {
      char c = sql.charAt(i);
      if (c == '\'') {
        int j = i + 1;
        while (j < n) {
          if (sql.charAt(j) == '\'') {
            if (j + 1 < n && sql.charAt(j + 1) == '\'') {
              j += 2;
              continue;
            }
            break;
          }
          j++;
        }
        if (space) {
          out.append(' ');
        }
        out.append('?');
        i = j + 1;
        space = false;
      } else if (Character.isDigit(c) && (out.length() == 0 || !Character.isLetterOrDigit(out.charAt(out.length() - 1)) && out.charAt(out.length() - 1) != '_')) {
        while (i < n && (Character.isDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
          i++;
        }
        if (space) {
          out.append(' ');
        }
        out.append('?');
        space = false;
      } else if (c == '$' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))) {
        i++;
        while (i < n && Character.isDigit(sql.charAt(i))) {
          i++;
        }
        if (space) {
          out.append(' ');
        }
        out.append('?');
        space = false;
      } else if (Character.isWhitespace(c)) {
        space = out.length() > 0;
        i++;
      } else {
        if (space) {
          out.append(' ');
          space = false;
        }
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
