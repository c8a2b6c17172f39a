package io.mproxy.core.sql;

/** What a {@link SqlScanner} token is. */
public enum SqlTokenType {
  /** An unquoted keyword or identifier. */
  WORD,
  /** {@code "ident"} (PostgreSQL) or {@code `ident`} (MySQL). */
  QUOTED_IDENTIFIER,
  /** Any string literal: quoted, prefixed ({@code E'..'}, {@code X'..'}, {@code N'..'}) or dollar-quoted. */
  STRING,
  /** A numeric literal, including {@code 0x..} hex. */
  NUMBER,
  /** A bind parameter: {@code $1} (PostgreSQL) or {@code ?} (MySQL). */
  PARAMETER,
  /** A MySQL user or system variable: {@code @name}, {@code @@name}. */
  VARIABLE,
  /** A run of operator characters, e.g. {@code =}, {@code <>}, {@code ::}, {@code ->>}. */
  OPERATOR,
  /** One of {@code ( ) [ ] { } , ; .} or any other single character. */
  PUNCTUATION,
  /** A {@code --}, {@code #} or block comment, including hints ({@link SqlScanner#isHint()}). */
  COMMENT
}
