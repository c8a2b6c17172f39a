package io.mproxy.protocol.mongo;

import io.mproxy.core.spi.ListenerContext;
import org.bson.BsonDocument;

/** Client authentication state of one connection (SCRAM arrives with the core auth library). */
final class ClientAuth {

  private final ListenerContext listener;
  private boolean authenticated;
  private String user;

  ClientAuth(ListenerContext listener) {
    this.listener = listener;
    this.authenticated = !listener.config().auth().terminates();
  }

  boolean authenticated() {
    return authenticated;
  }

  String user() {
    return user;
  }

  boolean knowsUser(String dbDotUser) {
    int dot = dbDotUser.indexOf('.');
    String name = dot < 0 ? dbDotUser : dbDotUser.substring(dot + 1);
    return listener.config().auth().terminates() && listener.config().auth().user(name).isPresent();
  }

  BsonDocument saslStart(BsonDocument body) {
    return MongoErrors.authenticationFailed();
  }

  BsonDocument saslContinue(BsonDocument body) {
    return MongoErrors.authenticationFailed();
  }

  void logout() {
    if (listener.config().auth().terminates()) {
      authenticated = false;
      user = null;
    }
  }
}
