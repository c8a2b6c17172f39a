package io.mproxy.core.sql;

import java.util.Objects;

/**
 * A single-pass tokenizer over one SQL text, shaped like a cursor so a caller can walk millions of
 * tokens without allocating one object per token: {@link #next()} advances, {@link #type()},
 * {@link #start()} and {@link #end()} describe the current token, {@link #mark()} and
 * {@link #reset(long)} give bounded lookahead.
 *
 * <p>Untrusted input never makes it throw or loop: every step consumes at least one character, an
 * unterminated string, identifier or comment simply ends at the end of the input, and any character
 * it does not recognise becomes a one-character {@link SqlTokenType#PUNCTUATION} token. Whitespace
 * is skipped. Not thread-safe.
 */
public final class SqlScanner {

  private final SqlDialect dialect;
  private CharSequence sql;
  /** The text's characters: {@code chars[0, length)} (an array read is cheaper than charAt). */
  private char[] chars;
  private int length;

  private int pos;
  private boolean inExecutableComment;
  private SqlTokenType type;
  private int start;
  private int end;
  private boolean hint;
  /** For a {@link SqlTokenType#WORD}: the hash of its upper-cased characters, as {@link WordSet} hashes. */
  private int wordHash;

  public SqlScanner(SqlDialect dialect, CharSequence sql) {
    this.dialect = Objects.requireNonNull(dialect, "dialect");
    this.sql = Objects.requireNonNull(sql, "sql");
    this.length = sql.length();
    this.chars = copy(sql, new char[length]);
  }

  /**
   * Starts over on another text whose characters the caller has already copied into
   * {@code textChars[0, text.length())} (a reused scanner and array allocate nothing per statement).
   */
  void retarget(CharSequence text, char[] textChars) {
    this.sql = Objects.requireNonNull(text, "sql");
    this.length = text.length();
    if (textChars.length < length) {
      throw new IllegalArgumentException("the array holds " + textChars.length + " of " + length + " characters");
    }
    this.chars = textChars;
    pos = 0;
    inExecutableComment = false;
    type = null;
    start = end = 0;
    hint = false;
  }

  public SqlDialect dialect() {
    return dialect;
  }

  public CharSequence input() {
    return sql;
  }

  /** The input's characters, valid in {@code [0, input().length())}; not to be written. */
  char[] chars() {
    return chars;
  }

  /** Copies {@code text} into {@code into}, which holds at least {@code text.length()} characters. */
  static char[] copy(CharSequence text, char[] into) {
    int n = text.length();
    if (text instanceof String s) {
      s.getChars(0, n, into, 0);
    } else {
      for (int i = 0; i < n; i++) {
        into[i] = text.charAt(i);
      }
    }
    return into;
  }

  /** Advances to the next token; false (and no current token) at the end of the input. */
  public boolean next() {
    skipWhitespace();
    hint = false;
    if (pos >= length) {
      type = null;
      start = end = length;
      return false;
    }
    start = pos;
    scanToken();
    end = pos;
    return true;
  }

  /** Like {@link #next()} but steps over comments that are not hints. */
  public boolean nextSignificant() {
    while (next()) {
      if (type != SqlTokenType.COMMENT || hint) {
        return true;
      }
    }
    return false;
  }

  public SqlTokenType type() {
    return type;
  }

  public int start() {
    return start;
  }

  public int end() {
    return end;
  }

  /** For a {@link SqlTokenType#COMMENT}: whether it is a hint ({@code /*+ ...} or {@code /*mproxy ...}). */
  public boolean isHint() {
    return hint;
  }

  /** The current token's text (allocates; prefer the comparison methods on hot paths). */
  public String text() {
    return new String(chars, start, end - start);
  }

  /** Whether the current token is the single character {@code c} (punctuation or operator). */
  public boolean is(char c) {
    return type != null && end - start == 1 && chars[start] == c
        && (type == SqlTokenType.PUNCTUATION || type == SqlTokenType.OPERATOR);
  }

  /** Whether the current token is the word {@code upper} (ASCII, compared case-insensitively). */
  public boolean isWord(String upper) {
    if (type != SqlTokenType.WORD || end - start != upper.length()) {
      return false;
    }
    for (int i = 0; i < upper.length(); i++) {
      if (asciiUpper(chars[start + i]) != upper.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The current {@link SqlTokenType#WORD}'s upper-case hash (computed while scanning it). */
  int wordHash() {
    return wordHash;
  }

  /** A position to come back to with {@link #reset(long)}. */
  public long mark() {
    return ((long) (inExecutableComment ? 1 : 0) << 32) | pos;
  }

  /** Returns to a {@link #mark()}; the next {@link #next()} reads the token after the marked one. */
  public void reset(long mark) {
    pos = (int) mark;
    inExecutableComment = (mark >>> 32) != 0;
    type = null;
    start = end = pos;
  }

  static char asciiUpper(char c) {
    return c >= 'a' && c <= 'z' ? (char) (c - 32) : c;
  }

  private void skipWhitespace() {
    while (pos < length) {
      char c = chars[pos];
      if (c <= ' ') {
        pos++;
      } else if (inExecutableComment && c == '*' && pos + 1 < length && chars[pos + 1] == '/') {
        inExecutableComment = false;
        pos += 2;
      } else {
        return;
      }
    }
  }

  private void scanToken() {
    char c = chars[pos];
    char n = pos + 1 < length ? chars[pos + 1] : 0;
    switch (c) {
      case '\'' -> quoted(SqlTokenType.STRING, '\'', dialect.backslashEscapesInStrings());
      case '"' -> {
        if (dialect.doubleQuotedStrings()) {
          quoted(SqlTokenType.STRING, '"', true);
        } else {
          quoted(SqlTokenType.QUOTED_IDENTIFIER, '"', false);
        }
      }
      case '`' -> {
        if (dialect.backtickIdentifiers()) {
          quoted(SqlTokenType.QUOTED_IDENTIFIER, '`', false);
        } else {
          operator();
        }
      }
      case '-' -> {
        if (n == '-' && isDashComment()) {
          lineComment();
        } else {
          operator();
        }
      }
      case '#' -> {
        if (dialect.hashComments()) {
          lineComment();
        } else {
          operator();
        }
      }
      case '/' -> {
        if (n == '*') {
          blockComment();
        } else {
          operator();
        }
      }
      case '$' -> dollar();
      case '?' -> {
        if (dialect.questionMarkParameters()) {
          single(SqlTokenType.PARAMETER);
        } else {
          operator();
        }
      }
      case '@' -> {
        if (dialect.userVariables()) {
          variable();
        } else {
          operator();
        }
      }
      case '.' -> {
        if (isDigit(n)) {
          number();
        } else {
          single(SqlTokenType.PUNCTUATION);
        }
      }
      case '(', ')', '[', ']', '{', '}', ',', ';' -> single(SqlTokenType.PUNCTUATION);
      default -> {
        if (isDigit(c)) {
          number();
        } else if (isWordStart(c)) {
          wordOrPrefixedString();
        } else if (isOperatorChar(c)) {
          operator();
        } else {
          single(SqlTokenType.PUNCTUATION);
        }
      }
    }
  }

  private void single(SqlTokenType t) {
    type = t;
    pos++;
  }

  /** A quoted token from {@code pos} (at the opening quote); doubled quotes always escape. */
  private void quoted(SqlTokenType t, char quote, boolean backslash) {
    type = t;
    pos++;
    while (pos < length) {
      char c = chars[pos++];
      if (backslash && c == '\\') {
        pos++;
      } else if (c == quote) {
        if (pos < length && chars[pos] == quote) {
          pos++;
        } else {
          break;
        }
      }
    }
    pos = Math.min(pos, length);
  }

  private boolean isDashComment() {
    if (!dialect.dashCommentNeedsSpace()) {
      return true;
    }
    return pos + 2 >= length || chars[pos + 2] <= ' ';
  }

  private void lineComment() {
    type = SqlTokenType.COMMENT;
    while (pos < length && chars[pos] != '\n' && chars[pos] != '\r') {
      pos++;
    }
  }

  private void blockComment() {
    if (dialect.executableComments() && !inExecutableComment && isExecutableCommentStart()) {
      enterExecutableComment();
      return;
    }
    type = SqlTokenType.COMMENT;
    hint = isHintStart(pos + 2);
    pos += 2;
    int depth = 1;
    while (pos < length) {
      char c = chars[pos];
      char n = pos + 1 < length ? chars[pos + 1] : 0;
      if (c == '*' && n == '/') {
        pos += 2;
        if (--depth == 0) {
          return;
        }
      } else if (c == '/' && n == '*' && dialect.nestedBlockComments()) {
        pos += 2;
        depth++;
      } else {
        pos++;
      }
    }
  }

  /** {@code /*!} or {@code /*M!}: MySQL and MariaDB execute what is inside. */
  private boolean isExecutableCommentStart() {
    int p = pos + 2;
    if (p < length && chars[p] == 'M') {
      p++;
    }
    return p < length && chars[p] == '!';
  }

  /** Skips the opening marker and version; the body is then scanned as ordinary tokens. */
  private void enterExecutableComment() {
    pos += 2;
    if (chars[pos] == 'M') {
      pos++;
    }
    pos++;
    while (pos < length && isDigit(chars[pos])) {
      pos++;
    }
    inExecutableComment = true;
    type = SqlTokenType.COMMENT;
  }

  private boolean isHintStart(int p) {
    if (p < length && chars[p] == '+') {
      return true;
    }
    while (p < length && chars[p] <= ' ') {
      p++;
    }
    String word = "MPROXY";
    if (p + word.length() > length) {
      return false;
    }
    for (int i = 0; i < word.length(); i++) {
      if (asciiUpper(chars[p + i]) != word.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private void dollar() {
    char n = pos + 1 < length ? chars[pos + 1] : 0;
    if (isDigit(n)) {
      type = SqlTokenType.PARAMETER;
      pos++;
      while (pos < length && isDigit(chars[pos])) {
        pos++;
      }
      return;
    }
    if (dialect.dollarQuoting()) {
      int tagEnd = dollarTagEnd(pos);
      if (tagEnd > 0) {
        dollarQuoted(tagEnd);
        return;
      }
    }
    single(SqlTokenType.PUNCTUATION);
  }

  /** If a dollar-quote tag {@code $tag$} starts at {@code p}, the index after it; else -1. */
  private int dollarTagEnd(int p) {
    int q = p + 1;
    if (q < length && chars[q] == '$') {
      return q + 1;
    }
    if (q >= length || !isWordStart(chars[q])) {
      return -1;
    }
    while (q < length && isWordPart(chars[q]) && chars[q] != '$') {
      q++;
    }
    return q < length && chars[q] == '$' ? q + 1 : -1;
  }

  private void dollarQuoted(int tagEnd) {
    type = SqlTokenType.STRING;
    int tagLength = tagEnd - pos;
    int tagStart = pos;
    pos = tagEnd;
    while (pos < length) {
      if (chars[pos] == '$' && regionEquals(tagStart, pos, tagLength)) {
        pos += tagLength;
        return;
      }
      pos++;
    }
  }

  private boolean regionEquals(int a, int b, int len) {
    if (b + len > length) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      if (chars[a + i] != chars[b + i]) {
        return false;
      }
    }
    return true;
  }

  private void variable() {
    type = SqlTokenType.VARIABLE;
    pos++;
    if (pos < length && chars[pos] == '@') {
      pos++;
    }
    if (pos < length) {
      char c = chars[pos];
      if (c == '\'' || c == '"' || c == '`') {
        int at = start;
        quoted(SqlTokenType.VARIABLE, c, c != '`');
        start = at;
        return;
      }
    }
    while (pos < length && isWordPart(chars[pos])) {
      pos++;
    }
  }

  private void number() {
    type = SqlTokenType.NUMBER;
    char c = chars[pos];
    char n = pos + 1 < length ? chars[pos + 1] : 0;
    if (c == '0' && (n == 'x' || n == 'X' || n == 'b' || n == 'B' || n == 'o' || n == 'O')
        && pos + 2 < length && Character.digit(chars[pos + 2], 16) >= 0) {
      pos += 2;
      while (pos < length && (Character.digit(chars[pos], 16) >= 0 || chars[pos] == '_')) {
        pos++;
      }
      return;
    }
    digits();
    if (pos < length && chars[pos] == '.'
        && !(pos + 1 < length && chars[pos + 1] == '.')) {
      pos++;
      digits();
    }
    if (pos < length && (chars[pos] == 'e' || chars[pos] == 'E')) {
      int p = pos + 1;
      if (p < length && (chars[p] == '+' || chars[p] == '-')) {
        p++;
      }
      if (p < length && isDigit(chars[p])) {
        pos = p;
        digits();
      }
    }
  }

  private void digits() {
    while (pos < length && (isDigit(chars[pos]) || chars[pos] == '_')) {
      pos++;
    }
  }

  private void wordOrPrefixedString() {
    char c = asciiUpper(chars[pos]);
    char n = pos + 1 < length ? chars[pos + 1] : 0;
    if (n == '\'' && (c == 'X' || c == 'B' || c == 'N' || c == 'E')) {
      boolean backslash = dialect.backslashEscapesInStrings() || (c == 'E' && dialect == SqlDialect.POSTGRES);
      pos++;
      quoted(SqlTokenType.STRING, '\'', backslash);
      return;
    }
    if (c == 'U' && n == '&' && pos + 2 < length && dialect == SqlDialect.POSTGRES) {
      char q = chars[pos + 2];
      if (q == '\'' || q == '"') {
        pos += 2;
        quoted(q == '\'' ? SqlTokenType.STRING : SqlTokenType.QUOTED_IDENTIFIER, q, false);
        return;
      }
    }
    type = SqlTokenType.WORD;
    int h = c;
    pos++;
    while (pos < length) {
      char w = chars[pos];
      if (!isWordPart(w)) {
        break;
      }
      h = 31 * h + asciiUpper(w);
      pos++;
    }
    wordHash = h;
  }

  /** A run of operator characters, never swallowing a comment start; a trailing + or - is split off. */
  private void operator() {
    type = SqlTokenType.OPERATOR;
    int p = pos + 1;
    while (p < length && isOperatorChar(chars[p]) && !startsComment(p)) {
      p++;
    }
    while (p - pos > 1 && (chars[p - 1] == '+' || chars[p - 1] == '-')) {
      p--;
    }
    pos = p;
  }

  private boolean startsComment(int p) {
    char c = chars[p];
    char n = p + 1 < length ? chars[p + 1] : 0;
    return (c == '-' && n == '-') || (c == '/' && n == '*') || (c == '#' && dialect.hashComments())
        || (inExecutableComment && c == '*' && n == '/');
  }

  private boolean isOperatorChar(char c) {
    switch (c) {
      case '+', '-', '*', '/', '<', '>', '=', '~', '!', '%', '^', '&', '|', ':' -> {
        return true;
      }
      case '@' -> {
        return !dialect.userVariables();
      }
      case '#' -> {
        return !dialect.hashComments();
      }
      case '?' -> {
        return !dialect.questionMarkParameters();
      }
      case '`' -> {
        return !dialect.backtickIdentifiers();
      }
      default -> {
        return false;
      }
    }
  }

  static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  static boolean isWordStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
  }

  static boolean isWordPart(char c) {
    return isWordStart(c) || isDigit(c) || c == '$';
  }
}
