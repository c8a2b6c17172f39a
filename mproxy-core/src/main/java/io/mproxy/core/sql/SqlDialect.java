package io.mproxy.core.sql;

/**
 * The lexical differences between the SQL the proxy reads. Only what changes where a token starts
 * and ends is modelled here: getting a quote wrong would make a literal look like code (or hide a
 * statement separator), which matters for classification and fingerprints alike.
 *
 * <p>Server settings that change the lexer are assumed at their defaults: PostgreSQL's
 * {@code standard_conforming_strings = on}; MySQL without {@code ANSI_QUOTES} or
 * {@code NO_BACKSLASH_ESCAPES} in {@code sql_mode}.
 */
public enum SqlDialect {
  /**
   * PostgreSQL: {@code 'standard'} strings ({@code E'..'} with backslash escapes), dollar quoting
   * {@code $tag$..$tag$}, {@code "identifiers"}, nested block comments, {@code $n} parameters.
   */
  POSTGRES,
  /**
   * MySQL and MariaDB: {@code 'strings'} and {@code "strings"} with backslash escapes,
   * {@code `identifiers`}, {@code #} comments, {@code --} comments only when followed by whitespace,
   * {@code /*! ... *}{@code /} executable comments, {@code ?} parameters, {@code @variables}.
   */
  MYSQL;

  boolean backslashEscapesInStrings() {
    return this == MYSQL;
  }

  boolean doubleQuotedStrings() {
    return this == MYSQL;
  }

  boolean backtickIdentifiers() {
    return this == MYSQL;
  }

  boolean hashComments() {
    return this == MYSQL;
  }

  boolean dashCommentNeedsSpace() {
    return this == MYSQL;
  }

  boolean nestedBlockComments() {
    return this == POSTGRES;
  }

  boolean dollarQuoting() {
    return this == POSTGRES;
  }

  boolean questionMarkParameters() {
    return this == MYSQL;
  }

  boolean executableComments() {
    return this == MYSQL;
  }

  boolean userVariables() {
    return this == MYSQL;
  }

  /** PostgreSQL folds unquoted identifiers to lower case; MySQL keeps them (table names may be case-sensitive). */
  boolean foldsIdentifiersToLowerCase() {
    return this == POSTGRES;
  }
}
