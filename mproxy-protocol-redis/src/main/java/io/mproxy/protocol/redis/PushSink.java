package io.mproxy.protocol.redis;

import io.mproxy.protocol.redis.codec.RespFrame;

/**
 * Receives the frames a backend sends that answer no command: pub/sub messages, RESP3 pushes,
 * MONITOR output. Called on the backend connection's event loop; takes ownership of the frame.
 */
interface PushSink {

  void push(RespFrame frame);
}
