package io.mproxy.protocol.mysql;

import io.mproxy.core.request.RequestKind;
import io.mproxy.core.sql.SqlClassification;
import io.mproxy.core.sql.SqlClassifier;
import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlFingerprint;
import io.mproxy.core.sql.SqlScanner;
import io.mproxy.core.sql.SqlShapes;
import io.mproxy.core.sql.SqlTokenType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads just enough of a MySQL statement to meter and pool it: its kind and statement count
 * ({@link SqlClassifier}), its fingerprint ({@link SqlFingerprint}: literals and lists
 * normalized, ProxySQL-style), and its {@link SessionEffect}: replayable SETs, USE, KILL, or state
 * that pins the session to its connection. The effect rules are MySQL's own and read the tokens of
 * core's {@link SqlScanner}.
 *
 * <p>Texts with literals inline differ every time, but what is learned from one does not depend on
 * its literals, except for the statements whose effect carries a value ({@code SET}, {@code USE},
 * {@code KILL}): so a text is fingerprinted first (one scan into reused arrays) and the rest is
 * looked up by its fingerprint; only a new shape, a truncated fingerprint or one of those statements
 * is read in full. The fingerprint keeps every token but literals in order (words verbatim, variables,
 * punctuation), and only those tokens decide the effect and the classification.
 */
final class StatementInspector {

  /** What was learned about one COM_QUERY text. */
  record Info(RequestKind kind, String verb, String fingerprint, int statements, SessionEffect effect) {
  }

  /** Shapes remembered before the memo is emptied to refill with what is current (as {@link SqlShapes} does). */
  private static final int CAPACITY = 10_000;
  /** Interns the fingerprints, so a repeated shape is one shared string (a cheap key). */
  private static final SqlShapes SHAPES = new SqlShapes(SqlDialect.MYSQL, CAPACITY);
  /** What every text of a fingerprint gives; shared by every session (the values are immutable). */
  private static final ConcurrentHashMap<String, Info> BY_FINGERPRINT = new ConcurrentHashMap<>();

  private StatementInspector() {
  }

  static Info inspect(String sql) {
    String fingerprint = SHAPES.fingerprint(sql);
    boolean whole = !SqlFingerprint.isTruncated(fingerprint);
    if (whole) {
      Info known = BY_FINGERPRINT.get(fingerprint);
      if (known != null) {
        return known;
      }
    }
    return read(sql, fingerprint, whole);
  }

  /**
   * Reads all of {@code sql} (classifier and tokens), whose fingerprint is {@code fingerprint}, and
   * remembers the result for the fingerprint when {@code remember} and it holds for every text of it.
   */
  static Info read(String sql, String fingerprint, boolean remember) {
    SqlClassification c = SqlClassifier.classify(SqlDialect.MYSQL, sql);
    List<Token> tokens = tokenize(sql);
    String verb = tokens.isEmpty() ? "" : tokens.get(0).upper();
    int statements = Math.max(c.statementCount(), tokens.isEmpty() ? 0 : 1);
    SessionEffect effect = effect(sql, verb, tokens, statements);
    if (effect == SessionEffect.NONE && c.setsSessionState() && !verb.equals("SET") && !verb.equals("USE")
        && !verb.equals("KILL")) {
      effect = SessionEffect.pin("session state (" + c.verb() + ")");
    }
    Info info = new Info(c.kind(), c.verb().isEmpty() ? verb : c.verb(), fingerprint, statements, effect);
    if (remember && sameForEveryText(c, verb)) {
      if (BY_FINGERPRINT.size() >= CAPACITY) {
        BY_FINGERPRINT.clear();
      }
      BY_FINGERPRINT.put(fingerprint, info);
    }
    return info;
  }

  /**
   * Whether every text of this one's fingerprint gives its {@link Info}: not when the effect carries
   * a value of the text ({@code SET}, {@code USE}, {@code KILL}), nor when the classifier found no
   * verb.
   */
  private static boolean sameForEveryText(SqlClassification c, String verb) {
    if (verb.equals("SET") || verb.equals("USE") || verb.equals("KILL")) {
      return false;
    }
    // an empty verb: the first token (a literal?), or no statement at all, whose fingerprint ("")
    // is also that of a lone ";"
    return !c.verb().isEmpty();
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

  /** Core's scanner tokens (comments dropped) with their parenthesis depth. */
  private static List<Token> tokenize(String sql) {
    List<Token> out = new ArrayList<>();
    SqlScanner scanner = new SqlScanner(SqlDialect.MYSQL, sql);
    int depth = 0;
    while (scanner.nextSignificant()) {
      SqlTokenType t = scanner.type();
      int start = scanner.start();
      int end = scanner.end();
      if (t == SqlTokenType.COMMENT) {
        continue;
      }
      String text = sql.substring(start, end);
      Type type = switch (t) {
        case WORD -> Type.WORD;
        case QUOTED_IDENTIFIER -> Type.QUOTED_ID;
        case STRING -> Type.STRING;
        case NUMBER -> Type.NUMBER;
        case VARIABLE -> text.startsWith("@@") ? Type.SYSVAR : Type.VARIABLE;
        default -> Type.SYMBOL;
      };
      if (type == Type.QUOTED_ID && text.length() >= 2) {
        text = text.substring(1, text.length() - 1);
      }
      if (type == Type.SYMBOL && text.equals(")")) {
        depth = Math.max(0, depth - 1);
      }
      out.add(new Token(type, text, start, end, depth));
      if (type == Type.SYMBOL && text.equals("(")) {
        depth++;
      }
    }
    return out;
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
    if (name.type() == Type.SYSVAR && at + 2 < part.size() && part.get(at + 1).sym('.')
        && (part.get(at + 2).type() == Type.WORD || part.get(at + 2).type() == Type.QUOTED_ID)) {
      String scopeName = name.text().substring(2).toLowerCase(Locale.ROOT);
      if (scopeName.equals("global")) {
        return new SessionEffect.Assignment("", "");
      }
      if (!scopeName.equals("session") && !scopeName.equals("local")) {
        return null;
      }
      key = part.get(at + 2).text().toLowerCase(Locale.ROOT);
      at += 2;
    } else if (name.type() == Type.SYSVAR) {
      key = name.text().substring(2).toLowerCase(Locale.ROOT);
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
