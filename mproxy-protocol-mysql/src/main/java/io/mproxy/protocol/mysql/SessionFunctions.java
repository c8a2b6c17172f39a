package io.mproxy.protocol.mysql;

import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlScanner;
import io.mproxy.core.sql.SqlTokenType;

/**
 * Answers the SQL functions that read a connection's own state consistently under transaction
 * pooling, where consecutive statements of one client may run on different backend connections:
 * {@code CONNECTION_ID()} becomes the id the client got in the proxy's greeting (the one its
 * {@code KILL} uses), and, in a single-statement query, {@code LAST_INSERT_ID()} and
 * {@code ROW_COUNT()} become the values the proxy saw in the answers it relayed to this client
 * (the last non-zero last_insert_id of an OK packet; the affected rows of the previous statement,
 * or -1 after a result set or an error). A call that is a whole select item keeps its column name
 * through an alias. Calls inside strings, comments and quoted identifiers are left alone; so is
 * {@code LAST_INSERT_ID(expr)}, which sets the value (the server's OK reports it).
 */
final class SessionFunctions {

  private SessionFunctions() {
  }

  /** The values a rewrite uses. */
  record Values(long connectionId, long lastInsertId, long rowCount) {
  }

  /** The rewritten statement text, or null when {@code sql} calls none of the functions. */
  static String rewrite(String sql, Values values, boolean singleStatement) {
    if (!mentions(sql)) {
      return null;
    }
    SqlScanner sc = new SqlScanner(SqlDialect.MYSQL, sql);
    StringBuilder out = null;
    int copied = 0;
    int depth = 0;
    boolean itemStart = false;
    while (significant(sc)) {
      if (sc.is('(')) {
        depth++;
        itemStart = false;
        continue;
      }
      if (sc.is(')')) {
        depth--;
        itemStart = false;
        continue;
      }
      boolean startsItem = itemStart;
      itemStart = depth == 0 && (sc.isWord("SELECT") || sc.is(','));
      if (sc.type() != SqlTokenType.WORD) {
        continue;
      }
      String value = value(sc, values, singleStatement);
      if (value == null) {
        continue;
      }
      int from = sc.start();
      long afterWord = sc.mark();
      if (!significant(sc) || !sc.is('(') || !significant(sc) || !sc.is(')')) {
        sc.reset(afterWord);
        continue;
      }
      int to = sc.end();
      long afterCall = sc.mark();
      boolean alias = depth == 0 && startsItem && endsItem(sc);
      sc.reset(afterCall);
      if (out == null) {
        out = new StringBuilder(sql.length() + 32);
      }
      out.append(sql, copied, from).append(value);
      if (alias) {
        out.append(" AS `").append(sql, from, to).append('`');
      }
      copied = to;
    }
    if (out == null) {
      return null;
    }
    return out.append(sql, copied, sql.length()).toString();
  }

  private static String value(SqlScanner sc, Values values, boolean singleStatement) {
    if (sc.isWord("CONNECTION_ID")) {
      return Long.toString(values.connectionId());
    }
    if (!singleStatement) {
      return null;
    }
    if (sc.isWord("LAST_INSERT_ID")) {
      return Long.toUnsignedString(values.lastInsertId());
    }
    if (sc.isWord("ROW_COUNT")) {
      return Long.toString(values.rowCount());
    }
    return null;
  }

  /** Whether the next token ends a select item that has no alias yet. */
  private static boolean endsItem(SqlScanner sc) {
    if (!significant(sc)) {
      return true;
    }
    return sc.is(',') || sc.is(';') || sc.isWord("FROM") || sc.isWord("INTO") || sc.isWord("LIMIT")
        || sc.isWord("UNION") || sc.isWord("WHERE") || sc.isWord("FOR");
  }

  private static boolean significant(SqlScanner sc) {
    while (sc.next()) {
      if (sc.type() != SqlTokenType.COMMENT) {
        return true;
      }
    }
    return false;
  }

  private static boolean mentions(String sql) {
    return containsIgnoreCase(sql, "CONNECTION_ID") || containsIgnoreCase(sql, "LAST_INSERT_ID")
        || containsIgnoreCase(sql, "ROW_COUNT");
  }

  /**
   * Whether {@code s} holds {@code upper} (upper-case ASCII) at some index where {@link
   * String#regionMatches(boolean, int, String, int, int)} ignoring case matches it. ASCII characters
   * are compared here (a letter in either case, anything else as it is); at an index where a
   * non-ASCII character comes up (some fold to ASCII letters) the region is left to regionMatches.
   * Most indexes cost one comparison and no call.
   */
  static boolean containsIgnoreCase(String s, String upper) {
    int n = upper.length();
    for (int i = 0, last = s.length() - n; i <= last; i++) {
      int j = 0;
      while (j < n) {
        char c = s.charAt(i + j);
        char u = upper.charAt(j);
        if (c == u || (u >= 'A' && u <= 'Z' && c == (char) (u + 32))) {
          j++;
        } else if (c >= 0x80) {
          j = s.regionMatches(true, i, upper, 0, n) ? n : -1;
          break;
        } else {
          break;
        }
      }
      if (j == n) {
        return true;
      }
    }
    return false;
  }
}
