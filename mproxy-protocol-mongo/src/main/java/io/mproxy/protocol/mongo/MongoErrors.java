package io.mproxy.protocol.mongo;

import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import org.bson.BsonDocument;

/**
 * The error documents the proxy answers with, and their codes (listed in docs/mongo.md). None
 * carries an {@code errorLabels} array and none uses a code that drivers retry on their own
 * (the retryable-reads/-writes lists: 6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602,
 * 13435, 13436) or that makes them mark the server unknown — so a refusal never turns into a
 * retry storm and never makes a driver drop its connection pool.
 */
final class MongoErrors {

  /** RU budget exhausted, queue full, shed or a runaway rule: try again later. */
  static final int RATE_LIMITED = 16500;
  static final String RATE_LIMITED_NAME = "RequestRateTooLarge";
  /** The request waited past its deadline in the proxy. */
  static final int TIME_LIMIT = 50;
  static final String TIME_LIMIT_NAME = "MaxTimeMSExpired";
  /** No backend could take the request (none healthy, pool exhausted, connection lost). */
  /** A runaway rule cancelled the running operation: what killOp makes mongod answer. */
  static final int INTERRUPTED = 11601;
  static final String INTERRUPTED_NAME = "Interrupted";
  static final int NO_BACKEND = 133;
  static final String NO_BACKEND_NAME = "FailedToSatisfyReadPreference";
  static final int UNAUTHORIZED = 13;
  static final int AUTHENTICATION_FAILED = 18;
  static final int MECHANISM_UNAVAILABLE = 334;
  static final int FAILED_TO_PARSE = 9;
  static final int INVALID_BSON = 22;
  static final int TOO_LARGE = 10334;
  static final int UNSUPPORTED_OP_QUERY = 352;
  static final int COMMAND_NOT_SUPPORTED = 115;

  private MongoErrors() {
  }

  static BsonDocument refusal(Refusal r) {
    if (r.outcome() == Outcome.TIMEOUT) {
      return MongoReplies.error(TIME_LIMIT, TIME_LIMIT_NAME, r.message());
    }
    if (r.reason() == io.mproxy.core.request.ShedReason.NO_BACKEND
        || r.reason() == io.mproxy.core.request.ShedReason.CIRCUIT_OPEN) {
      return MongoReplies.error(NO_BACKEND, NO_BACKEND_NAME, r.message());
    }
    return MongoReplies.error(RATE_LIMITED, RATE_LIMITED_NAME, r.message());
  }

  static BsonDocument backendUnavailable(String group, String why) {
    return MongoReplies.error(NO_BACKEND, NO_BACKEND_NAME,
        "mproxy: error group=" + group + " reason=backend_unavailable (" + why + ")");
  }

  static BsonDocument interrupted(String group) {
    return MongoReplies.error(INTERRUPTED, INTERRUPTED_NAME,
        "mproxy: operation was interrupted group=" + group + " reason=runaway (cancelled by a runaway rule)");
  }

  static BsonDocument unauthorized(String command) {
    return MongoReplies.error(UNAUTHORIZED, "Unauthorized",
        "command " + command + " requires authentication");
  }

  static BsonDocument authenticationFailed() {
    return MongoReplies.error(AUTHENTICATION_FAILED, "AuthenticationFailed", "Authentication failed.");
  }

  /** The error before a protocol-level close: which code depends on what was wrong. */
  static BsonDocument protocol(String message) {
    String text = "mproxy: protocol error: " + message;
    if (message.contains("exceeds maxMessageSizeBytes")) {
      return MongoReplies.error(TOO_LARGE, "BSONObjectTooLarge", text);
    }
    if (message.contains("BSON")) {
      return MongoReplies.error(INVALID_BSON, "InvalidBSON", text);
    }
    return MongoReplies.error(FAILED_TO_PARSE, "FailedToParse", text);
  }
}
