package io.mproxy.protocol.mysql;

import io.mproxy.core.request.RequestKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads just enough of a MySQL statement to meter and pool it: its kind, a fingerprint with
 * literals and lists normalized (ProxySQL-style digest), whether it opens or closes a
 * transaction, and its {@link SessionEffect} (replayable SETs, USE, KILL, or state that pins the
 * session to its connection).
 *
 * <p>The kind and fingerprint are interim: they move to core's shared SQL classifier when it
 * lands; the session-effect rules are MySQL's own and stay here.
 */
final class StatementInspector {

  /** What was learned about one COM_QUERY text. */
  record Info(RequestKind kind, String verb, String fingerprint, int statements, SessionEffect effect) {
  }

  private static final int MAX_FINGERPRINT = 1024;

  private StatementInspector() {
  }

  static Info inspect(String sql) {
    List<Token> tokens = tokenize(sql);
    int statements = countStatements(tokens);
    String verb = tokens.isEmpty() ? "" : tokens.get(0).upper();
    RequestKind kind = kind(verb, tokens);
    SessionEffect effect = effect(sql, verb, tokens, statements);
    return new Info(kind, verb, fingerprint(tokens), statements, effect);
  }

  // ------------------------------------------------------------------ tokens

  private enum Type { WORD, NUMBER, STRING, QUOTED_ID, VARIABLE, SYSVAR, SYMBOL }

  private record Token(Type type, String text, int start, int end, int depth) {
    String upper() {
      return text.toUpperCase(Locale.ROOT);
    }

    boolean is(String word) {
      return type == Type.WORD && text.equalsIgnoreCase(word);
    }

    boolean sym(char c) {
      return type == Type.SYMBOL && text.length() == 1 && text.charAt(0) == c;
    }
  }

  private static List<Token> tokenize(String s) {
    List<Token> out = new ArrayList<>();
    int i = 0;
    int n = s.length();
    int depth = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '#' || (c == '-' && i + 2 <= n && s.startsWith("--", i)
          && (i + 2 == n || Character.isWhitespace(s.charAt(i + 2))))) {
        int nl = s.indexOf('\n', i);
        i = nl < 0 ? n : nl + 1;
      } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
        int end = s.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '\'' || c == '"') {
        int end = skipQuoted(s, i, c);
        out.add(new Token(Type.STRING, "?", i, end, depth));
        i = end;
      } else if (c == '`') {
        int end = skipQuoted(s, i, '`');
        out.add(new Token(Type.QUOTED_ID, s.substring(i + 1, Math.max(i + 1, end - 1)), i, end, depth));
        i = end;
      } else if (c == '@') {
        int j = i + 1;
        boolean sys = j < n && s.charAt(j) == '@';
        if (sys) {
          j++;
        }
        while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == '.'
            || s.charAt(j) == '$')) {
          j++;
        }
        if (!sys && j < n && (s.charAt(j) == '\'' || s.charAt(j) == '"' || s.charAt(j) == '`')) {
          j = skipQuoted(s, j, s.charAt(j));
        }
        out.add(new Token(sys ? Type.SYSVAR : Type.VARIABLE, s.substring(i, j), i, j, depth));
        i = j;
      } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
        int j = i;
        while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.')) {
          j++;
        }
        out.add(new Token(Type.NUMBER, "?", i, j, depth));
        i = j;
      } else if (Character.isLetter(c) || c == '_' || c == '$' || c > 127) {
        int j = i;
        while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == '$'
            || s.charAt(j) > 127)) {
          j++;
        }
        out.add(new Token(Type.WORD, s.substring(i, j), i, j, depth));
        i = j;
      } else {
        if (c == ')') {
          depth = Math.max(0, depth - 1);
        }
        int j = i + 1;
        if (j < n && (c == ':' || c == '<' || c == '>' || c == '!') && s.charAt(j) == '=') {
          j++;
        }
        out.add(new Token(Type.SYMBOL, s.substring(i, j), i, j, depth));
        if (c == '(') {
          depth++;
        }
        i = j;
      }
    }
    return out;
  }

  private static int skipQuoted(String s, int at, char q) {
    int i = at + 1;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '\\' && q != '`') {
        i += 2;
      } else if (c == q) {
        if (i + 1 < s.length() && s.charAt(i + 1) == q) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return s.length();
  }

  private static int countStatements(List<Token> tokens) {
    int count = tokens.isEmpty() ? 0 : 1;
    for (int i = 0; i < tokens.size() - 1; i++) {
      if (tokens.get(i).sym(';')) {
        count++;
      }
    }
    return count;
  }

  // ------------------------------------------------------------------ kind

  private static RequestKind kind(String verb, List<Token> tokens) {
    switch (verb) {
      case "SELECT":
      case "SHOW":
      case "DESCRIBE":
      case "DESC":
      case "EXPLAIN":
      case "DO":
      case "HELP":
      case "CHECKSUM":
      case "VALUES":
      case "TABLE":
        return RequestKind.READ;
      case "WITH":
        for (Token t : tokens) {
          if (t.depth() == 0 && (t.is("INSERT") || t.is("UPDATE") || t.is("DELETE"))) {
            return RequestKind.WRITE;
          }
        }
        return RequestKind.READ;
      case "BEGIN":
      case "START":
      case "COMMIT":
      case "ROLLBACK":
      case "SAVEPOINT":
      case "RELEASE":
      case "XA":
        return RequestKind.TRANSACTION_CONTROL;
      case "SET":
      case "USE":
        return RequestKind.SESSION;
      case "KILL":
      case "FLUSH":
      case "SHUTDOWN":
      case "RESET":
      case "PURGE":
      case "INSTALL":
      case "UNINSTALL":
        return RequestKind.ADMIN;
      default:
        return RequestKind.WRITE;
    }
  }

  // ------------------------------------------------------------------ fingerprint

  private static String fingerprint(List<Token> tokens) {
    StringBuilder sb = new StringBuilder(64);
    int i = 0;
    while (i < tokens.size() && sb.length() < MAX_FINGERPRINT) {
      Token t = tokens.get(i);
      if (t.sym('(') && isLiteralList(tokens, i)) {
        sep(sb).append("(?,...)");
        i = closing(tokens, i) + 1;
        continue;
      }
      if (t.sym(';') && i == tokens.size() - 1) {
        break;
      }
      String text = switch (t.type()) {
        case WORD -> t.text().toLowerCase(Locale.ROOT);
        case QUOTED_ID -> "`" + t.text() + "`";
        default -> t.text();
      };
      boolean tight = t.type() == Type.SYMBOL && (t.sym(',') || t.sym(')') || t.sym('.') || t.sym(';'));
      boolean prevTight = sb.length() > 0 && (sb.charAt(sb.length() - 1) == '(' || sb.charAt(sb.length() - 1) == '.');
      if (!tight && !prevTight && sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(text);
      i++;
    }
    if (sb.length() > MAX_FINGERPRINT) {
      sb.setLength(MAX_FINGERPRINT);
    }
    return sb.toString();
  }

  private static StringBuilder sep(StringBuilder sb) {
    if (sb.length() > 0 && sb.charAt(sb.length() - 1) != '(') {
      sb.append(' ');
    }
    return sb;
  }

  /** {@code ( literal , literal ... )}: a list to collapse. */
  private static boolean isLiteralList(List<Token> tokens, int open) {
    int close = closing(tokens, open);
    if (close < 0 || close == open + 1) {
      return false;
    }
    for (int i = open + 1; i < close; i++) {
      Token t = tokens.get(i);
      boolean literal = t.type() == Type.NUMBER || t.type() == Type.STRING || t.sym(',') || t.sym('-')
          || t.is("NULL") || t.sym('?');
      if (!literal) {
        return false;
      }
    }
    return true;
  }

  private static int closing(List<Token> tokens, int open) {
    int depth = 0;
    for (int i = open; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      if (t.sym('(')) {
        depth++;
      } else if (t.sym(')')) {
        depth--;
        if (depth == 0) {
          return i;
        }
      }
    }
    return -1;
  }

  // ------------------------------------------------------------------ session effects

  private static SessionEffect effect(String sql, String verb, List<Token> tokens, int statements) {
    for (int i = 0; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      Token next = i + 1 < tokens.size() ? tokens.get(i + 1) : null;
      if (t.type() == Type.VARIABLE) {
        return SessionEffect.pin("user variable " + t.text());
      }
      if (t.is("GET_LOCK") && next != null && next.sym('(')) {
        return SessionEffect.pin("GET_LOCK()");
      }
      if (t.is("TEMPORARY") && i > 0 && tokens.get(i - 1).is("CREATE")) {
        return SessionEffect.pin("temporary table");
      }
      if (t.is("LOCK") && next != null && (next.is("TABLES") || next.is("TABLE")) && (i == 0 || tokens.get(i - 1).sym(';'))) {
        return SessionEffect.pin("LOCK TABLES");
      }
    }
    if (statements > 1) {
      for (Token t : tokens) {
        if (t.is("SET") || t.is("USE") || t.is("PREPARE")) {
          return SessionEffect.pin("session state set in a multi-statement query");
        }
      }
      return SessionEffect.NONE;
    }
    switch (verb) {
      case "SET":
        return set(sql, tokens);
      case "USE":
        if (tokens.size() >= 2) {
          Token db = tokens.get(1);
          if (db.type() == Type.WORD || db.type() == Type.QUOTED_ID) {
            return SessionEffect.use(db.text());
          }
        }
        return SessionEffect.pin("USE");
      case "PREPARE":
      case "EXECUTE":
      case "DEALLOCATE":
        return SessionEffect.pin("SQL-level prepared statement");
      case "HANDLER":
        return SessionEffect.pin("HANDLER");
      case "XA":
        return SessionEffect.pin("XA transaction");
      case "KILL":
        return kill(sql, tokens);
      default:
        return SessionEffect.NONE;
    }
  }

  private static SessionEffect kill(String sql, List<Token> tokens) {
    int i = 1;
    if (i < tokens.size() && (tokens.get(i).is("HARD") || tokens.get(i).is("SOFT"))) {
      i++;
    }
    boolean query = false;
    if (i < tokens.size() && tokens.get(i).is("QUERY")) {
      query = true;
      i++;
    } else if (i < tokens.size() && tokens.get(i).is("CONNECTION")) {
      i++;
    }
    if (i < tokens.size() && tokens.get(i).is("ID")) {
      i++;
    }
    if (i < tokens.size() && tokens.get(i).type() == Type.NUMBER) {
      Token t = tokens.get(i);
      boolean last = i + 1 == tokens.size() || (i + 2 == tokens.size() && tokens.get(i + 1).sym(';'));
      if (last) {
        try {
          return SessionEffect.kill(Long.parseLong(sql.substring(t.start(), t.end())), query);
        } catch (NumberFormatException e) {
          return SessionEffect.pin("KILL of an id that is not a number");
        }
      }
    }
    return SessionEffect.pin("KILL in a form the proxy does not translate");
  }

  private static SessionEffect set(String sql, List<Token> tokens) {
    List<SessionEffect.Assignment> out = new ArrayList<>();
    int start = 1;
    String scope = null;
    if (start < tokens.size() && (tokens.get(start).is("SESSION") || tokens.get(start).is("LOCAL"))) {
      scope = "SESSION";
      start++;
    } else if (start < tokens.size() && tokens.get(start).is("GLOBAL")) {
      return SessionEffect.NONE;
    } else if (start < tokens.size() && tokens.get(start).is("STATEMENT")) {
      return SessionEffect.NONE;
    } else if (start < tokens.size() && tokens.get(start).is("PASSWORD")) {
      return SessionEffect.NONE;
    } else if (start < tokens.size() && tokens.get(start).is("ROLE")) {
      return SessionEffect.pin("SET ROLE");
    } else if (start < tokens.size() && tokens.get(start).is("DEFAULT")) {
      return SessionEffect.NONE;
    } else if (start < tokens.size() && tokens.get(start).is("TRANSACTION")) {
      return SessionEffect.pin("SET TRANSACTION for the next transaction");
    }
    int partStart = start;
    for (int i = start; i <= tokens.size(); i++) {
      boolean end = i == tokens.size() || (tokens.get(i).sym(',') && tokens.get(i).depth() == 0)
          || (tokens.get(i).sym(';'));
      if (!end) {
        continue;
      }
      if (i > partStart) {
        SessionEffect.Assignment a = assignment(sql, tokens.subList(partStart, i), scope);
        if (a == null) {
          return SessionEffect.pin("SET the proxy cannot replay");
        }
        if (!a.key().isEmpty()) {
          out.add(a);
        }
      }
      partStart = i + 1;
      if (i < tokens.size() && tokens.get(i).sym(';')) {
        break;
      }
    }
    return out.isEmpty() ? SessionEffect.NONE : SessionEffect.set(out);
  }

  /** One assignment, or null when it cannot be replayed; an empty key means "no session state". */
  private static SessionEffect.Assignment assignment(String sql, List<Token> part, String scope) {
    Token first = part.get(0);
    String text = sql.substring(first.start(), part.get(part.size() - 1).end()).trim();
    if (first.is("NAMES") || first.is("CHARSET")) {
      return new SessionEffect.Assignment("names", "SET " + text);
    }
    if (first.is("CHARACTER") && part.size() > 1 && part.get(1).is("SET")) {
      return new SessionEffect.Assignment("names", "SET " + text);
    }
    int at = 0;
    boolean session = scope != null;
    if (first.is("SESSION") || first.is("LOCAL")) {
      session = true;
      at = 1;
    } else if (first.is("GLOBAL")) {
      return new SessionEffect.Assignment("", "");
    }
    if (at < part.size() && part.get(at).is("TRANSACTION")) {
      return session ? new SessionEffect.Assignment("transaction", "SET " + (scope == null ? "" : "SESSION ")
          + text) : null;
    }
    if (at >= part.size()) {
      return null;
    }
    Token name = part.get(at);
    String key;
    if (name.type() == Type.SYSVAR) {
      String v = name.text().substring(2).toLowerCase(Locale.ROOT);
      if (v.startsWith("global.")) {
        return new SessionEffect.Assignment("", "");
      }
      if (v.startsWith("session.")) {
        v = v.substring(8);
      } else if (v.startsWith("local.")) {
        v = v.substring(6);
      }
      key = v;
    } else if (name.type() == Type.WORD || name.type() == Type.QUOTED_ID) {
      key = name.text().toLowerCase(Locale.ROOT);
    } else {
      return null;
    }
    if (at + 1 >= part.size() || !(part.get(at + 1).sym('=') || part.get(at + 1).text().equals(":="))) {
      return null;
    }
    String value = sql.substring(part.get(at + 1).end(), part.get(part.size() - 1).end()).trim();
    return new SessionEffect.Assignment(key, "SET SESSION " + key + " = " + value);
  }
}
