package io.mproxy.protocol.mysql;

import java.util.List;

/**
 * What a statement does to the state of the connection it runs on, as far as pooling cares.
 *
 * @param pinReason non-null when the session must keep its backend connection from now on
 * @param assignments session-variable assignments that can be replayed on another connection,
 *     each as {@code key} (variable name) and the SQL that sets it
 * @param schema non-null for {@code USE schema}
 * @param killId for {@code KILL [CONNECTION|QUERY] id}: the id, else -1
 * @param killQuery true for {@code KILL QUERY}
 */
record SessionEffect(String pinReason, List<Assignment> assignments, String schema, long killId,
    boolean killQuery) {

  static final SessionEffect NONE = new SessionEffect(null, List.of(), null, -1, false);

  /** One replayable {@code SET}: which variable, and the statement that sets it. */
  record Assignment(String key, String sql) {
  }

  static SessionEffect pin(String reason) {
    return new SessionEffect(reason, List.of(), null, -1, false);
  }

  static SessionEffect set(List<Assignment> assignments) {
    return new SessionEffect(null, List.copyOf(assignments), null, -1, false);
  }

  static SessionEffect use(String schema) {
    return new SessionEffect(null, List.of(), schema, -1, false);
  }

  static SessionEffect kill(long id, boolean query) {
    return new SessionEffect(null, List.of(), null, id, query);
  }
}
