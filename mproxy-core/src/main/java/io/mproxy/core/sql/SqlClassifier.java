package io.mproxy.core.sql;

import io.mproxy.core.request.RequestKind;
import java.util.Locale;

/**
 * Classifies SQL text for routing, metering and transaction pooling: the leading verb, the
 * {@link RequestKind}, whether it opens or closes a transaction, whether it leaves session state
 * behind, and how many statements it holds. One pass of {@link SqlScanner}, no regular expressions,
 * never throws on malformed input.
 *
 * <p>Doubtful cases lean to the safe side: an unknown verb is a WRITE (sent to the primary, charged
 * as a write), {@code SELECT ... FOR UPDATE}, {@code SELECT ... INTO} and calls of functions with
 * side effects ({@code nextval}, advisory locks, {@code GET_LOCK}) are writes, and anything that may
 * outlive the transaction sets {@code setsSessionState} so the pooler pins the client.
 */
public final class SqlClassifier {

  private SqlClassifier() {}

  /** Classifies {@code sql}; empty or comment-only text gives verb "", READ and 0 statements. */
  public static SqlClassification classify(SqlDialect dialect, CharSequence sql) {
    SqlScanner scanner = new SqlScanner(dialect, sql);
    Statement statement = new Statement(dialect);
    String verb = null;
    RequestKind kind = null;
    boolean start = false;
    boolean end = false;
    boolean session = false;
    int count = 0;
    boolean more = true;
    while (more) {
      statement.reset();
      more = statement.read(scanner);
      if (statement.isEmpty()) {
        continue;
      }
      statement.decide();
      count++;
      if (verb == null) {
        verb = statement.effectiveVerb();
      }
      kind = kind == null ? statement.kind : stronger(kind, statement.kind);
      start |= statement.transactionStart;
      end |= statement.transactionEnd;
      session |= statement.sessionState;
    }
    if (count == 0) {
      return SqlClassification.EMPTY;
    }
    return new SqlClassification(verb, kind, start, end, session, count);
  }

  private static RequestKind stronger(RequestKind a, RequestKind b) {
    return rank(a) >= rank(b) ? a : b;
  }

  private static int rank(RequestKind k) {
    return switch (k) {
      case WRITE -> 4;
      case SESSION -> 3;
      case TRANSACTION_CONTROL -> 2;
      case ADMIN -> 1;
      case READ -> 0;
    };
  }

  /** Words whose position matters to the classifier. */
  private static final WordSet WORDS = new WordSet(
      "ABORT", "ANALYSE", "ANALYZE", "AND", "ATOMIC", "BEGIN", "CASE", "CHAIN", "CLOSE", "COMMIT",
      "CONSTRAINTS", "CREATE", "DEALLOCATE", "DECLARE", "DELETE", "DESC", "DESCRIBE", "DISCARD",
      "DO", "DROP", "ELSE", "END", "EXECUTE", "EXPLAIN", "FALSE", "FETCH", "FOR", "GLOBAL", "HELP",
      "HOLD", "IF", "IN", "INSERT", "INTO", "KEY", "LISTEN", "LOAD", "LOCAL", "LOCK", "LOOP",
      "MERGE", "MOVE", "NO", "OFF", "PERSIST", "PERSIST_ONLY", "PREPARE", "PREPARED", "RELEASE",
      "REPEAT", "REPLACE", "RESET", "ROLLBACK", "SAVEPOINT", "SELECT", "SESSION", "SET", "SHARE",
      "SHOW", "START", "TABLE", "TEMP", "TEMPORARY", "THEN", "TO", "TRANSACTION", "UNLISTEN",
      "UNLOCK", "UPDATE", "USE", "VALUES", "WHILE", "WITH", "WORK", "XA");

  /** Functions with side effects: calling one makes a read a write. */
  private static final WordSet WRITE_FUNCTIONS = new WordSet(
      "NEXTVAL", "SETVAL", "PG_ADVISORY_LOCK", "PG_ADVISORY_LOCK_SHARED", "PG_TRY_ADVISORY_LOCK",
      "PG_TRY_ADVISORY_LOCK_SHARED", "PG_ADVISORY_XACT_LOCK", "PG_ADVISORY_XACT_LOCK_SHARED",
      "PG_TRY_ADVISORY_XACT_LOCK", "PG_TRY_ADVISORY_XACT_LOCK_SHARED", "PG_ADVISORY_UNLOCK",
      "PG_ADVISORY_UNLOCK_SHARED", "PG_ADVISORY_UNLOCK_ALL", "SET_CONFIG", "PG_NOTIFY",
      "LO_CREATE", "LO_CREAT", "LO_IMPORT", "LO_UNLINK", "LO_FROM_BYTEA", "LO_PUT",
      "PG_TERMINATE_BACKEND", "PG_CANCEL_BACKEND", "TXID_CURRENT", "PG_CURRENT_XACT_ID",
      "GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS");

  /** Functions whose effect outlives the transaction (session-level locks, settings). */
  private static final WordSet SESSION_FUNCTIONS = new WordSet(
      "PG_ADVISORY_LOCK", "PG_ADVISORY_LOCK_SHARED", "PG_TRY_ADVISORY_LOCK",
      "PG_TRY_ADVISORY_LOCK_SHARED", "SET_CONFIG", "GET_LOCK");

  private static final int LEAD = 6;

  private static final int MAX_VERB_LENGTH = 64;

  /** The streaming analysis of one statement; reused across the statements of one text. */
  private static final class Statement {

    private final SqlDialect dialect;
    private final String[] lead = new String[LEAD];
    private int leadCount;
    private boolean secondIsGlobalVariable;

    private String verb;
    private int verbDepth;
    private int depth;
    private String prevWord;
    private SqlTokenType prevType;

    private String pendingFunction;
    private boolean pendingInto;
    private boolean pendingAnalyzeOption;

    private boolean lockingRead;
    private boolean writeWord;
    private boolean intoTable;
    private boolean intoTemp;
    private boolean intoVariable;
    private boolean writeFunction;
    private boolean sessionFunction;
    private boolean withHold;
    private boolean assignment;

    private boolean searchingWithMain;
    private boolean searchingExplained;
    private String innerVerb;
    private String mainVerb;
    private boolean analyze;

    private int blockDepth;
    private boolean bodyStatementStart;

    RequestKind kind;
    boolean transactionStart;
    boolean transactionEnd;
    boolean sessionState;

    Statement(SqlDialect dialect) {
      this.dialect = dialect;
    }

    void reset() {
      java.util.Arrays.fill(lead, null);
      leadCount = 0;
      secondIsGlobalVariable = false;
      verb = null;
      verbDepth = 0;
      depth = 0;
      prevWord = null;
      prevType = null;
      pendingFunction = null;
      pendingInto = false;
      pendingAnalyzeOption = false;
      lockingRead = writeWord = intoTable = intoTemp = intoVariable = false;
      writeFunction = sessionFunction = withHold = assignment = false;
      searchingWithMain = searchingExplained = false;
      innerVerb = mainVerb = null;
      analyze = false;
      blockDepth = 0;
      bodyStatementStart = false;
      kind = null;
      transactionStart = transactionEnd = sessionState = false;
    }

    boolean isEmpty() {
      return verb == null;
    }

    /** Reads tokens up to and including a top-level ';'; false when the input ended instead. */
    boolean read(SqlScanner s) {
      while (s.next()) {
        if (s.type() == SqlTokenType.COMMENT) {
          continue;
        }
        if (s.is(';') && depth == 0 && blockDepth == 0) {
          return true;
        }
        accept(s);
      }
      return false;
    }

    String effectiveVerb() {
      if ("WITH".equals(verb)) {
        return mainVerb != null ? mainVerb : "WITH";
      }
      return verb;
    }

    private void accept(SqlScanner s) {
      SqlTokenType t = s.type();
      String word = WORDS.find(s);
      boolean open = s.is('(');
      if (verb == null) {
        if (open) {
          depth++;
          return;
        }
        startVerb(s, t, word);
        remember(s, t, word);
        return;
      }
      if (leadCount < LEAD) {
        if (leadCount == 0 && t == SqlTokenType.VARIABLE) {
          secondIsGlobalVariable = equalsIgnoreCase(s, "@@GLOBAL") || equalsIgnoreCase(s, "@@PERSIST")
              || equalsIgnoreCase(s, "@@PERSIST_ONLY");
        }
        lead[leadCount++] = word;
      }
      resolvePending(s, t, word, open);
      if (open) {
        depth++;
      } else if (s.is(')')) {
        depth = Math.max(0, depth - 1);
      } else if (t == SqlTokenType.OPERATOR && prevType == SqlTokenType.VARIABLE && isText(s, ":=")) {
        assignment = true;
      }
      if (t == SqlTokenType.WORD) {
        String function = WRITE_FUNCTIONS.find(s);
        if (function != null) {
          pendingFunction = function;
        }
      }
      if (word != null) {
        wordRules(word);
      }
      remember(s, t, word);
    }

    private void startVerb(SqlScanner s, SqlTokenType t, String word) {
      verbDepth = depth;
      if (t != SqlTokenType.WORD) {
        verb = "";
        return;
      }
      verb = word != null ? word : unknownVerb(s);
      switch (verb) {
        case "WITH" -> searchingWithMain = true;
        case "EXPLAIN", "DESCRIBE", "DESC" -> searchingExplained = true;
        case "ANALYZE", "ANALYSE" -> {
          searchingExplained = true;
          analyze = true;
        }
        default -> { }
      }
    }

    /** An unrecognised leading word, upper-cased and cut to a sane length (it could be megabytes). */
    private static String unknownVerb(SqlScanner s) {
      int end = Math.min(s.end(), s.start() + MAX_VERB_LENGTH);
      return s.input().subSequence(s.start(), end).toString().toUpperCase(Locale.ROOT);
    }

    private void resolvePending(SqlScanner s, SqlTokenType t, String word, boolean open) {
      if (pendingFunction != null) {
        if (open) {
          writeFunction = true;
          sessionFunction |= SESSION_FUNCTIONS.find(pendingFunction, 0, pendingFunction.length()) != null;
        }
        pendingFunction = null;
      }
      if (pendingInto) {
        pendingInto = false;
        if (t == SqlTokenType.VARIABLE) {
          intoVariable = true;
        } else {
          intoTable = true;
          intoTemp = "TEMP".equals(word) || "TEMPORARY".equals(word);
        }
      }
      if (pendingAnalyzeOption) {
        pendingAnalyzeOption = false;
        if ("FALSE".equals(word) || "OFF".equals(word) || (t == SqlTokenType.NUMBER && isText(s, "0"))) {
          analyze = false;
        }
      }
    }

    private void wordRules(String word) {
      if ("FOR".equals(prevWord) && isLockStrength(word)) {
        lockingRead = true;
      }
      if ("LOCK".equals(prevWord) && "IN".equals(word)) {
        lockingRead = true;
      }
      if ("WITH".equals(prevWord) && "HOLD".equals(word)) {
        withHold = true;
      }
      if (isWriteVerb(word)) {
        writeWord = true;
      }
      if ("INTO".equals(word) && depth == verbDepth) {
        pendingInto = true;
      }
      searchInnerVerb(word);
      if ("CREATE".equals(verb)) {
        trackBody(word);
      }
    }

    private void searchInnerVerb(String word) {
      if (searchingExplained) {
        boolean isAnalyze = "ANALYZE".equals(word) || "ANALYSE".equals(word);
        if (depth == verbDepth + 1 && isAnalyze) {
          analyze = true;
          pendingAnalyzeOption = true;
        } else if (depth == verbDepth && isAnalyze) {
          analyze = true;
        } else if (depth == verbDepth && isExplainable(word)) {
          innerVerb = word;
          searchingExplained = false;
          if ("WITH".equals(word)) {
            searchingWithMain = true;
          } else {
            mainVerb = word;
          }
        }
        return;
      }
      if (searchingWithMain && depth == verbDepth
          && isDml(word)) {
        mainVerb = word;
        searchingWithMain = false;
      }
    }

    /** Keeps ';' inside CREATE FUNCTION/PROCEDURE/TRIGGER bodies (BEGIN ... END) from splitting. */
    private void trackBody(String word) {
      if ("BEGIN".equals(word) && depth == 0 && (blockDepth == 0 || bodyStatementStart)) {
        blockDepth++;
      } else if (blockDepth > 0) {
        if ("END".equals(word)) {
          blockDepth--;
        } else if ("CASE".equals(word) && !"END".equals(prevWord)) {
          blockDepth++;
        } else if (bodyStatementStart && isBlockOpener(word)) {
          blockDepth++;
        }
      }
    }

    private void remember(SqlScanner s, SqlTokenType t, String word) {
      boolean colon = t == SqlTokenType.OPERATOR && isText(s, ":");
      bodyStatementStart = s.is(';') || colon
          || startsBodyStatement(word);
      prevWord = word;
      prevType = t;
    }

    void decide() {
      kind = RequestKind.WRITE;
      switch (verb) {
        case "WITH" -> kind = writeWord ? RequestKind.WRITE : dmlKind(mainVerb == null ? "SELECT" : mainVerb);
        case "SELECT", "VALUES", "TABLE" -> kind = dmlKind(verb);
        case "EXPLAIN", "DESCRIBE", "DESC" -> kind = explainedKind();
        case "ANALYZE", "ANALYSE" -> kind = innerVerb == null || "TABLE".equals(innerVerb)
            ? RequestKind.WRITE : explainedKind();
        case "SHOW", "HELP", "FETCH", "MOVE" -> kind = RequestKind.READ;
        case "DECLARE" -> {
          kind = lockingRead ? RequestKind.WRITE : RequestKind.READ;
          sessionState = withHold;
        }
        case "BEGIN" -> transaction(true, false);
        case "START" -> {
          if ("TRANSACTION".equals(lead[0])) {
            transaction(true, false);
          }
        }
        case "COMMIT", "ROLLBACK" -> commitOrRollback();
        case "END", "ABORT" -> {
          if (dialect == SqlDialect.POSTGRES) {
            transaction(hasAndChain(), true);
          }
        }
        case "SAVEPOINT", "RELEASE" -> transaction(false, false);
        case "PREPARE" -> {
          if ("TRANSACTION".equals(lead[0])) {
            transaction(false, true);
          } else {
            session(true);
          }
        }
        case "XA" -> transaction(isOneOf(lead[0], "START", "BEGIN"), isOneOf(lead[0], "COMMIT", "ROLLBACK"));
        case "SET" -> session(setKeepsSessionState());
        case "RESET" -> {
          if (dialect == SqlDialect.POSTGRES) {
            session(true);
          }
        }
        case "DISCARD", "UNLISTEN", "CLOSE" -> session(false);
        case "LISTEN", "USE", "DEALLOCATE" -> session(true);
        case "LOAD" -> {
          if (dialect == SqlDialect.POSTGRES) {
            session(true);
          }
        }
        case "LOCK" -> sessionState = dialect == SqlDialect.MYSQL;
        case "DROP" -> {
          if ("PREPARE".equals(lead[0])) {
            session(true);
          }
        }
        case "CREATE" -> sessionState = leadHas("TEMP") || leadHas("TEMPORARY");
        default -> { }
      }
      if (sessionFunction) {
        sessionState = true;
      }
      if (writeFunction && kind == RequestKind.READ) {
        kind = RequestKind.WRITE;
      }
    }

    private RequestKind dmlKind(String v) {
      switch (v) {
        case "SELECT", "VALUES", "TABLE" -> {
          if (intoVariable || assignment || intoTemp) {
            sessionState = true;
          }
          return lockingRead || intoTable ? RequestKind.WRITE : RequestKind.READ;
        }
        case "DECLARE" -> {
          return lockingRead ? RequestKind.WRITE : RequestKind.READ;
        }
        default -> {
          return RequestKind.WRITE;
        }
      }
    }

    private RequestKind explainedKind() {
      if (!analyze || innerVerb == null) {
        return RequestKind.READ;
      }
      if ("WITH".equals(innerVerb) && writeWord) {
        return RequestKind.WRITE;
      }
      boolean savedSession = sessionState;
      RequestKind inner = dmlKind(mainVerb == null ? "SELECT" : mainVerb);
      sessionState = savedSession;
      return inner == RequestKind.READ ? RequestKind.READ : RequestKind.WRITE;
    }

    private void commitOrRollback() {
      if ("PREPARED".equals(lead[0])) {
        transaction(false, false);
      } else if ("ROLLBACK".equals(verb) && ("TO".equals(lead[0]) || "TO".equals(lead[1]))) {
        transaction(false, false);
      } else {
        transaction(hasAndChain(), true);
      }
    }

    private boolean setKeepsSessionState() {
      String second = lead[0];
      if (dialect == SqlDialect.POSTGRES) {
        return !isOneOf(second, "LOCAL", "TRANSACTION", "CONSTRAINTS");
      }
      return !isOneOf(second, "GLOBAL", "PERSIST", "PERSIST_ONLY") && !secondIsGlobalVariable;
    }

    private boolean hasAndChain() {
      for (int i = 0; i + 1 < leadCount; i++) {
        if ("AND".equals(lead[i]) && "CHAIN".equals(lead[i + 1])) {
          return true;
        }
      }
      return false;
    }

    private boolean leadHas(String word) {
      for (int i = 0; i < leadCount; i++) {
        if (word.equals(lead[i])) {
          return true;
        }
      }
      return false;
    }

    private void transaction(boolean starts, boolean ends) {
      kind = RequestKind.TRANSACTION_CONTROL;
      transactionStart = starts;
      transactionEnd = ends;
    }

    private void session(boolean keepsState) {
      kind = RequestKind.SESSION;
      sessionState = keepsState;
    }

    private static boolean isLockStrength(String word) {
      return switch (word) {
        case "UPDATE", "SHARE", "NO", "KEY" -> true;
        default -> false;
      };
    }

    private static boolean isWriteVerb(String word) {
      return switch (word) {
        case "INSERT", "UPDATE", "DELETE", "MERGE" -> true;
        default -> false;
      };
    }

    private static boolean isDml(String word) {
      return switch (word) {
        case "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE" -> true;
        default -> false;
      };
    }

    /** What EXPLAIN (and MariaDB's ANALYZE) can run. */
    private static boolean isExplainable(String word) {
      return isDml(word) || switch (word) {
        case "WITH", "EXECUTE", "CREATE", "DECLARE", "REPLACE" -> true;
        default -> false;
      };
    }

    private static boolean isBlockOpener(String word) {
      return switch (word) {
        case "IF", "LOOP", "WHILE", "REPEAT" -> true;
        default -> false;
      };
    }

    private static boolean startsBodyStatement(String word) {
      return word != null && switch (word) {
        case "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT" -> true;
        default -> false;
      };
    }

    private static boolean isOneOf(String word, String... candidates) {
      if (word == null) {
        return false;
      }
      for (String c : candidates) {
        if (c.equals(word)) {
          return true;
        }
      }
      return false;
    }

    private static boolean isText(SqlScanner s, String text) {
      if (s.end() - s.start() != text.length()) {
        return false;
      }
      for (int i = 0; i < text.length(); i++) {
        if (s.input().charAt(s.start() + i) != text.charAt(i)) {
          return false;
        }
      }
      return true;
    }

    private static boolean equalsIgnoreCase(SqlScanner s, String upper) {
      if (s.end() - s.start() != upper.length()) {
        return false;
      }
      for (int i = 0; i < upper.length(); i++) {
        if (SqlScanner.asciiUpper(s.input().charAt(s.start() + i)) != upper.charAt(i)) {
          return false;
        }
      }
      return true;
    }
  }
}
