package io.mproxy.core.hint;

import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlScanner;
import io.mproxy.core.sql.SqlTokenType;

/**
 * Finds hints in the comments that come before a statement's first token:
 * {@code /* mproxy: priority=low timeout_ms=500 group=batch *}{@code /} (also as a {@code --}
 * line comment) and the optimizer-hint form TiDB and MySQL users know,
 * {@code /*+ RESOURCE_GROUP(batch) *}{@code /}. Comments after the first token are not read:
 * a hint belongs at the front, and stopping there keeps the work per query small. At most
 * {@link #MAX_SCAN} characters are looked at, whatever the statement's length.
 */
public final class HintParser {

  /** Characters of a statement looked at for leading comments. */
  public static final int MAX_SCAN = 4096;

  private static final String PREFIX = "mproxy";
  private static final String RESOURCE_GROUP = "RESOURCE_GROUP";

  private HintParser() {
  }

  /** The hints in the comments before {@code sql}'s first token; {@link QueryHints#NONE} if none. */
  public static QueryHints fromSql(SqlDialect dialect, CharSequence sql) {
    if (sql == null || !mayHaveComment(sql)) {
      return QueryHints.NONE;
    }
    CharSequence head = sql.length() > MAX_SCAN ? sql.subSequence(0, MAX_SCAN) : sql;
    SqlScanner s = new SqlScanner(dialect, head);
    HintBuilder b = null;
    while (s.next() && s.type() == SqlTokenType.COMMENT) {
      String body = commentBody(head, s.start(), s.end());
      if (body == null) {
        continue;
      }
      if (b == null) {
        b = new HintBuilder();
      }
      if (body.startsWith("+")) {
        optimizerHints(body, b);
      } else {
        directive(body, b);
      }
    }
    return b == null ? QueryHints.NONE : b.build();
  }

  /**
   * A free-standing directive such as a Mongo {@code comment} string or Redis arguments:
   * {@code "mproxy: priority=low timeout_ms=500"}; with {@code requirePrefix} false the
   * {@code mproxy:} prefix may be left out. Text without the prefix when it is required gives
   * {@link QueryHints#NONE}.
   */
  public static QueryHints fromDirective(CharSequence text, boolean requirePrefix) {
    if (text == null) {
      return QueryHints.NONE;
    }
    String t = text.length() > MAX_SCAN ? text.subSequence(0, MAX_SCAN).toString() : text.toString();
    HintBuilder b = new HintBuilder();
    String trimmed = t.strip();
    if (hasPrefix(trimmed)) {
      directive(trimmed, b);
    } else if (!requirePrefix) {
      pairs(trimmed, 0, b);
    }
    return b.build();
  }

  /** Cheap pre-check: without a comment opener in the first characters there is nothing to scan. */
  private static boolean mayHaveComment(CharSequence sql) {
    int n = Math.min(sql.length(), MAX_SCAN);
    for (int i = 0; i < n; i++) {
      char c = sql.charAt(i);
      if (c <= ' ') {
        continue;
      }
      return (c == '/' || c == '-' || c == '#') && i + 1 < n;
    }
    return false;
  }

  /** The text inside a comment token, or null when it cannot carry a hint. */
  private static String commentBody(CharSequence sql, int start, int end) {
    if (end - start < 4) {
      return null;
    }
    char c0 = sql.charAt(start);
    char c1 = sql.charAt(start + 1);
    String body;
    if (c0 == '/' && c1 == '*') {
      int stop = end >= start + 4 && sql.charAt(end - 2) == '*' && sql.charAt(end - 1) == '/' ? end - 2 : end;
      body = sql.subSequence(start + 2, stop).toString();
      if (body.startsWith("+")) {
        return body;
      }
    } else if (c0 == '-' && c1 == '-') {
      body = sql.subSequence(start + 2, end).toString();
    } else if (c0 == '#') {
      body = sql.subSequence(start + 1, end).toString();
    } else {
      return null;
    }
    body = body.strip();
    return hasPrefix(body) ? body : null;
  }

  private static boolean hasPrefix(String body) {
    if (!body.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      return false;
    }
    if (body.length() == PREFIX.length()) {
      return true;
    }
    char c = body.charAt(PREFIX.length());
    return c == ':' || Character.isWhitespace(c);
  }

  /** {@code mproxy: k=v k=v}: the prefix, then whitespace- or comma-separated pairs. */
  private static void directive(String body, HintBuilder b) {
    int i = PREFIX.length();
    if (i < body.length() && body.charAt(i) == ':') {
      i++;
    }
    pairs(body, i, b);
  }

  private static void pairs(String body, int from, HintBuilder b) {
    int i = from;
    int n = body.length();
    while (i < n) {
      while (i < n && (Character.isWhitespace(body.charAt(i)) || body.charAt(i) == ',')) {
        i++;
      }
      int start = i;
      while (i < n && !Character.isWhitespace(body.charAt(i)) && body.charAt(i) != ',') {
        i++;
      }
      if (start == i) {
        break;
      }
      String word = body.substring(start, i);
      int eq = word.indexOf('=');
      if (eq <= 0) {
        b.put(word, null);
        continue;
      }
      b.put(word.substring(0, eq), unquote(word.substring(eq + 1)));
    }
  }

  private static String unquote(String v) {
    if (v.length() >= 2) {
      char q = v.charAt(0);
      if ((q == '\'' || q == '"') && v.charAt(v.length() - 1) == q) {
        return v.substring(1, v.length() - 1);
      }
    }
    return v;
  }

  /** {@code +} optimizer hints: only {@code RESOURCE_GROUP(name)} is ours; the others are the database's. */
  private static void optimizerHints(String body, HintBuilder b) {
    int n = body.length();
    int i = 1;
    while (i < n) {
      int at = indexOfIgnoreCase(body, RESOURCE_GROUP, i);
      if (at < 0) {
        return;
      }
      boolean wordStart = at == 0 || !isWordChar(body.charAt(at - 1));
      int p = at + RESOURCE_GROUP.length();
      while (p < n && Character.isWhitespace(body.charAt(p))) {
        p++;
      }
      if (wordStart && p < n && body.charAt(p) == '(') {
        int close = body.indexOf(')', p + 1);
        if (close < 0) {
          b.put("group", "");
          return;
        }
        b.put("group", unquote(body.substring(p + 1, close).trim()));
        i = close + 1;
      } else {
        i = at + RESOURCE_GROUP.length();
      }
    }
  }

  private static boolean isWordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_';
  }

  private static int indexOfIgnoreCase(String s, String word, int from) {
    int last = s.length() - word.length();
    for (int i = from; i <= last; i++) {
      if (s.regionMatches(true, i, word, 0, word.length())) {
        return i;
      }
    }
    return -1;
  }
}
