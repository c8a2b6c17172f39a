package io.mproxy.server.admin;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP answer as plain bytes, built anywhere (event loop or admin thread); the handler turns
 * it into a Netty response on the channel's event loop, so no buffer outlives a closed channel.
 *
 * @param allow the {@code Allow} header of a 405, else null
 */
record Reply(HttpResponseStatus status, String contentType, byte[] body, String allow) {

  static final String TEXT = "text/plain; charset=utf-8";
  static final String JSON = "application/json; charset=utf-8";
  static final String HTML = "text/html; charset=utf-8";
  static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  static Reply text(HttpResponseStatus status, String text) {
    return new Reply(status, TEXT, utf8(text), null);
  }

  static Reply json(HttpResponseStatus status, byte[] json) {
    return new Reply(status, JSON, json, null);
  }

  static Reply of(HttpResponseStatus status, String contentType, String body) {
    return new Reply(status, contentType, utf8(body), null);
  }

  static Reply methodNotAllowed(String allow) {
    return new Reply(HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT,
        utf8("method not allowed (allowed: " + allow + ")\n"), allow);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
