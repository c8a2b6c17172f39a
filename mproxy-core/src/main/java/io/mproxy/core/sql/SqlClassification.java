package io.mproxy.core.sql;

import io.mproxy.core.request.RequestKind;

/**
 * What a SQL text does, as far as metering, routing and transaction pooling care. For text with
 * several statements the verb is the first statement's, the kind the strongest
 * ({@code WRITE > SESSION > TRANSACTION_CONTROL > READ}) and each flag is set if any statement sets
 * it. The flags are hints taken from the text; the backend's own transaction status (PostgreSQL's
 * ReadyForQuery, MySQL's SERVER_STATUS_IN_TRANS) remains the truth for whether a transaction is open.
 *
 * @param verb the leading keyword, upper-case, after comments, parentheses and CTE prefixes
 *     ({@code WITH ... AS (...) DELETE} gives DELETE); empty when there is no statement
 * @param kind how the request is metered and routed
 * @param isTransactionStart BEGIN, START TRANSACTION, XA START, or COMMIT/ROLLBACK AND CHAIN
 * @param isTransactionEnd COMMIT, END, ROLLBACK (not ROLLBACK TO), ABORT, PREPARE TRANSACTION
 * @param setsSessionState leaves state on the server connection that outlives the transaction, so
 *     a transaction-pooled client must be pinned to it
 * @param statementCount non-empty statements separated by top-level semicolons
 */
public record SqlClassification(
    String verb,
    RequestKind kind,
    boolean isTransactionStart,
    boolean isTransactionEnd,
    boolean setsSessionState,
    int statementCount) {

  static final SqlClassification EMPTY =
      new SqlClassification("", RequestKind.READ, false, false, false, 0);

  /** Whether the text holds more than one statement. */
  public boolean isMultiStatement() {
    return statementCount > 1;
  }
}
