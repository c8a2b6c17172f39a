package io.mproxy.protocol.mongo;

import io.mproxy.protocol.mongo.codec.MongoFrame;

/** Where the replies to one message sent on a backend connection go. Called on the backend's loop. */
interface ReplySink {

  /**
   * One reply ({@code null} for a message sent with moreToCome, which gets none); {@code last}
   * is false while an exhaust stream continues. Takes ownership of {@code frame}.
   */
  void reply(MongoFrame frame, boolean last);

  /** The connection failed before the last reply. */
  void failed(Throwable cause);
}
