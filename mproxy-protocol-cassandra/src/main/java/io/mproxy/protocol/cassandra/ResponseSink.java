package io.mproxy.protocol.cassandra;

import io.mproxy.protocol.cassandra.codec.CqlFrame;

/** Where the answer to one request sent on a backend connection goes. Called on that connection's loop. */
interface ResponseSink {

  /** The response (ownership passes to the sink), with the stream id the backend used. */
  void response(CqlFrame frame);

  /** The request got no response: the connection failed or no stream id was free. */
  void failed(Throwable cause);
}
