package io.mproxy.core.sql;

import io.mproxy.core.fingerprint.ShapeInterner;
import java.util.Objects;

/**
 * The shape of a SQL statement, the key for per-query statistics and runaway rules: literals and
 * bind parameters become {@code ?}, {@code IN (...)}, {@code VALUES (...), (...)} and
 * {@code ARRAY[...]} lists of literals collapse to one {@code ?}, keywords are upper-cased (and
 * PostgreSQL's unquoted identifiers lower-cased, as the server folds them), whitespace is
 * normalized and comments are dropped, except hints ({@code /*+ ...} and {@code /*mproxy ...}), which
 * change how the statement runs and stay verbatim. TRUE, FALSE and NULL stay as keywords.
 *
 * <p>The result is at most {@link #MAX_LENGTH} characters plus {@link #TRUNCATION_MARKER}, and
 * scanning stops once that is reached, so a 10 MB statement costs a bounded key. One pass; the only
 * lookahead is over lists of literals, each re-read at most once.
 */
public final class SqlFingerprint {

  /** Longest fingerprint kept before truncation. */
  public static final int MAX_LENGTH = 1024;

  /** Appended to a truncated fingerprint. */
  public static final String TRUNCATION_MARKER = " ...";

  /**
   * Whether {@code fingerprint} was cut at {@link #MAX_LENGTH} (and so does not cover its whole
   * text): only a cut one is longer, since the marker is added past the limit.
   */
  public static boolean isTruncated(String fingerprint) {
    return fingerprint.length() > MAX_LENGTH;
  }

  private SqlFingerprint() {}

  /** The fingerprint of {@code sql}. Never throws on malformed SQL. */
  public static String of(SqlDialect dialect, CharSequence sql) {
    return new Builder(dialect, sql, null).build();
  }

  /**
   * The fingerprint of {@code sql}, the same {@code String} instance as an earlier equal one
   * still held by {@code shapes}: a workload repeats few shapes, so this spares a string per call.
   */
  static String of(SqlDialect dialect, CharSequence sql, ShapeInterner shapes) {
    Builder b = REUSED.get();
    if (b.busy) {
      return new Builder(dialect, sql, shapes).build();
    }
    b.busy = true;
    try {
      b.retarget(dialect, sql, shapes);
      return b.build();
    } finally {
      b.release(); // holds no reference to the caller's text
      b.busy = false;
    }
  }

  /**
   * One builder per thread for {@link #of(SqlDialect, CharSequence, ShapeInterner)}: with the
   * result interned, a repeated shape then costs no allocation at all (event loops fingerprint
   * every simple query).
   */
  private static final ThreadLocal<Builder> REUSED =
      ThreadLocal.withInitial(() -> new Builder(SqlDialect.POSTGRES, "", null));

  /** 31 to the powers 0 to 31: appending a string of that length to a hash multiplies it by one of these. */
  private static final int[] POWERS_OF_31 = new int[32];

  static {
    int p = 1;
    for (int i = 0; i < POWERS_OF_31.length; i++) {
      POWERS_OF_31[i] = p;
      p *= 31;
    }
  }

  /**
   * {@code h} extended by {@code chars[from, to)} as {@link String#hashCode()} extends a prefix's
   * hash, four characters a step (weighed independently of the running hash, so each step waits for
   * one multiplication, not four).
   */
  static int extendHash(int h, char[] chars, int from, int to) {
    int i = from;
    for (; i + 4 <= to; i += 4) {
      h = P4 * h + (P3 * chars[i] + P2 * chars[i + 1] + 31 * chars[i + 2] + chars[i + 3]);
    }
    for (; i < to; i++) {
      h = 31 * h + chars[i];
    }
    return h;
  }

  private static final int P2 = 31 * 31;
  private static final int P3 = P2 * 31;
  private static final int P4 = P3 * 31;

  private enum Out { NONE, OPEN, CLOSE, DOT, COMMA, SEMI, WORD, KEYWORD, LITERAL, OPERATOR }

  /**
   * One fingerprint computation: scanner, output and the kind of the last emitted token. The text
   * is read from a copy in a char array and the output written to one, with no per-character call.
   */
  private static final class Builder {

    /**
     * Output past this is cut off anyway ({@link #finish()} keeps {@link #MAX_LENGTH} characters
     * and only needs to know that there were more), so it is not stored.
     */
    private static final int OUT_CAPACITY = MAX_LENGTH + 1;
    /** A reused input array above this many characters is dropped after use, not kept per thread. */
    private static final int KEPT_INPUT = 16 * 1024;
    private static final char[] NO_CHARS = new char[0];

    private SqlScanner scanner;
    private char[] in;
    private boolean lowerIdentifiers;
    private final char[] out = new char[OUT_CAPACITY];
    private int outLength;
    /**
     * {@link String#hashCode()} of {@code out[0, outLength)}, kept as the output is written so the
     * interner does not read it again; meaningless once the output is cut at {@link #OUT_CAPACITY}
     * (a truncated fingerprint is not interned).
     */
    private int outHash;
    /** The output's length and hash up to its last character that is neither ';' nor ' ' (what {@link #finish()} keeps). */
    private int keptLength;
    private int keptHash;
    private ShapeInterner shapes;
    private Out last = Out.NONE;
    private String lastKeyword;
    /** In use on this thread (guards against reentrance). */
    boolean busy;

    Builder(SqlDialect dialect, CharSequence sql, ShapeInterner shapes) {
      this.shapes = shapes;
      this.scanner = new SqlScanner(dialect, Objects.requireNonNull(sql, "sql"));
      this.in = scanner.chars();
      this.lowerIdentifiers = dialect.foldsIdentifiersToLowerCase();
    }

    /** Resets the builder for another text; the input array is reused when large enough. */
    void retarget(SqlDialect dialect, CharSequence text, ShapeInterner interner) {
      int n = text.length();
      if (in.length < n) {
        in = new char[Math.max(n, Math.min(KEPT_INPUT, in.length * 2))];
      }
      SqlScanner.copy(text, in);
      if (scanner.dialect() == dialect) {
        scanner.retarget(text, in);
      } else {
        scanner = new SqlScanner(dialect, text);
        in = scanner.chars();
      }
      shapes = interner;
      lowerIdentifiers = dialect.foldsIdentifiersToLowerCase();
      outLength = 0;
      outHash = 0;
      keptLength = 0;
      keptHash = 0;
      last = Out.NONE;
      lastKeyword = null;
    }

    /** Drops the reference to the last text (and a large input array). */
    void release() {
      if (in.length > KEPT_INPUT) {
        in = NO_CHARS;
      }
      scanner.retarget("", in);
      shapes = null;
    }

    String build() {
      while (outLength <= MAX_LENGTH && scanner.next()) {
        token();
      }
      return finish();
    }

    private void token() {
      switch (scanner.type()) {
        case COMMENT -> {
          if (scanner.isHint()) {
            emitSource(Out.WORD);
          }
        }
        case STRING, NUMBER, PARAMETER -> emit("?", Out.LITERAL);
        case WORD -> word();
        case QUOTED_IDENTIFIER, VARIABLE -> emitSource(Out.WORD);
        case OPERATOR -> operator();
        case PUNCTUATION -> punctuation();
        default -> emitSource(Out.OPERATOR);
      }
    }

    private void word() {
      String keyword = SqlKeywords.KEYWORDS.find(scanner);
      if (keyword == null) {
        emitIdentifier();
        return;
      }
      emit(keyword, Out.KEYWORD);
      lastKeyword = keyword;
      switch (keyword) {
        case "IN" -> collapseList('(', ')');
        case "ARRAY" -> collapseList('[', ']');
        case "VALUES", "VALUE" -> collapseRows();
        default -> { }
      }
    }

    private void operator() {
      int start = scanner.start();
      int end = scanner.end();
      if (isSign() && signMayBeUnary()) {
        long mark = scanner.mark();
        if (scanner.nextSignificant() && scanner.type() == SqlTokenType.NUMBER) {
          emit("?", Out.LITERAL);
          return;
        }
        scanner.reset(mark);
      }
      emitRange(start, end, Out.OPERATOR);
    }

    private void punctuation() {
      char c = in[scanner.start()];
      switch (c) {
        case '(', '[' -> emitSource(Out.OPEN);
        case ')', ']' -> emitSource(Out.CLOSE);
        case ',' -> emitSource(Out.COMMA);
        case ';' -> emitSource(Out.SEMI);
        case '.' -> emitSource(Out.DOT);
        default -> emitSource(Out.OPERATOR);
      }
    }

    private boolean isSign() {
      return scanner.is('-') || scanner.is('+');
    }

    private boolean signMayBeUnary() {
      return switch (last) {
        case NONE, OPEN, COMMA, SEMI, OPERATOR -> true;
        case KEYWORD -> !endsAnOperand(lastKeyword);
        default -> false;
      };
    }

    private static boolean endsAnOperand(String keyword) {
      return switch (keyword) {
        case "NULL", "TRUE", "FALSE", "END", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
            "CURRENT_USER", "SESSION_USER" -> true;
        default -> false;
      };
    }

    /** After IN or ARRAY: a bracketed list of only literals becomes {@code (?)} / {@code [?]}. */
    private void collapseList(char open, char close) {
      long mark = scanner.mark();
      if (scanner.nextSignificant() && scanner.is(open) && literalListUntil(close)) {
        emitCollapsed(open, close);
        return;
      }
      scanner.reset(mark);
    }

    /** After VALUES: rows of only literals, {@code (..), (..)}, become one {@code (?)}. */
    private void collapseRows() {
      long start = scanner.mark();
      int rows = 0;
      while (true) {
        if (!(scanner.nextSignificant() && scanner.is('(') && literalListUntil(')'))) {
          scanner.reset(start);
          return;
        }
        rows++;
        long afterRow = scanner.mark();
        if (!(scanner.nextSignificant() && scanner.is(','))) {
          scanner.reset(afterRow);
          break;
        }
      }
      if (rows > 0) {
        emitCollapsed('(', ')');
      }
    }

    /** Reads {@code literal (, literal)* close} after an opening bracket. */
    private boolean literalListUntil(char close) {
      int literals = 0;
      boolean expectValue = true;
      while (scanner.nextSignificant()) {
        if (expectValue && isLiteral()) {
          literals++;
          expectValue = false;
        } else if (!expectValue && scanner.is(',')) {
          expectValue = true;
        } else {
          return !expectValue && literals > 0 && scanner.is(close);
        }
      }
      return false;
    }

    private boolean isLiteral() {
      SqlTokenType t = scanner.type();
      if (t == SqlTokenType.STRING || t == SqlTokenType.NUMBER || t == SqlTokenType.PARAMETER) {
        return true;
      }
      if (!isSign()) {
        return false;
      }
      return scanner.nextSignificant() && scanner.type() == SqlTokenType.NUMBER;
    }

    private void emitCollapsed(char open, char close) {
      emit(open == '(' ? "(" : "[", Out.OPEN);
      emit("?", Out.LITERAL);
      emit(close == ')' ? ")" : "]", Out.CLOSE);
    }

    private void emitIdentifier() {
      space(Out.WORD, ' ');
      int start = scanner.start();
      int n = Math.min(scanner.end() - start, OUT_CAPACITY - outLength);
      int at = outLength;
      if (lowerIdentifiers) {
        char[] o = out;
        for (int i = 0; i < n; i++) {
          char c = in[start + i];
          o[at + i] = c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
        }
      } else {
        System.arraycopy(in, start, out, at, n);
      }
      wrote(at, n);
      last = Out.WORD;
    }

    private void emitSource(Out kind) {
      emitRange(scanner.start(), scanner.end(), kind);
    }

    private void emitRange(int start, int end, Out kind) {
      space(kind, in[start]);
      int at = outLength;
      if (end - start == 1 && at < OUT_CAPACITY) {
        // punctuation and one-character operators, the most frequent tokens: no copy or hash loop
        char c = in[start];
        out[at] = c;
        outLength = at + 1;
        outHash = 31 * outHash + c;
        keep(c);
        last = kind;
        return;
      }
      int n = Math.min(end - start, OUT_CAPACITY - at);
      System.arraycopy(in, start, out, at, n);
      wrote(at, n);
      last = kind;
    }

    private void emit(String text, Out kind) {
      space(kind, text.charAt(0));
      int length = text.length();
      int n = Math.min(length, OUT_CAPACITY - outLength);
      text.getChars(0, n, out, outLength);
      outLength += n;
      if (n == length && length < POWERS_OF_31.length) {
        // the string's own (cached) hash: a keyword or a constant costs one step, not one per character
        outHash = outHash * POWERS_OF_31[length] + text.hashCode();
        keep(text.charAt(length - 1));
      } else {
        outHash = extendHash(outHash, out, outLength - n, outLength);
        keep(out[outLength - 1]);
      }
      last = kind;
    }

    private void space(Out kind, char first) {
      if (needsSpace(kind, first) && outLength < OUT_CAPACITY) {
        out[outLength++] = ' ';
        outHash = 31 * outHash + ' ';
      }
    }

    /** Hashes {@code out[at, at + n)}, just written, into {@link #outHash}. */
    private void wrote(int at, int n) {
      outLength = at + n;
      if (n > 0) {
        outHash = extendHash(outHash, out, at, outLength);
        keep(out[outLength - 1]);
      }
    }

    /** After a write ending with {@code lastChar}: remembers the output as kept when that is not trimmed. */
    private void keep(char lastChar) {
      if (lastChar != ';' && lastChar != ' ') {
        keptLength = outLength;
        keptHash = outHash;
      }
    }

    private boolean needsSpace(Out kind, char first) {
      if (last == Out.NONE || last == Out.OPEN || last == Out.DOT) {
        return false;
      }
      switch (kind) {
        case CLOSE, COMMA, SEMI, DOT -> {
          return false;
        }
        case OPEN -> {
          if (first == '(') {
            return last != Out.WORD;
          }
          if (last == Out.KEYWORD) {
            return !"ARRAY".equals(lastKeyword);
          }
          return last == Out.COMMA || last == Out.OPERATOR || last == Out.SEMI;
        }
        default -> {
          return true;
        }
      }
    }

    private String finish() {
      if (outLength > MAX_LENGTH) {
        int cut = MAX_LENGTH;
        if (Character.isHighSurrogate(out[cut - 1])) {
          cut--;
        }
        return new String(out, 0, cut) + TRUNCATION_MARKER;
      }
      int len = outLength;
      while (len > 0 && (out[len - 1] == ';' || out[len - 1] == ' ')) {
        len--;
      }
      if (shapes == null) {
        return new String(out, 0, len);
      }
      // keptLength < len only when a token ended in ';' or ' ' after other characters: hash again
      return len == keptLength ? shapes.intern(out, len, keptHash) : shapes.intern(out, len);
    }
  }
}
