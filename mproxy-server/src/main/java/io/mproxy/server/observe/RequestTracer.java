package io.mproxy.server.observe;

import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;

/**
 * Receives the requests chosen for tracing (the OpenTelemetry span exporter). Called on event
 * loops: implementations hand off to bounded queues and never block.
 */
public interface RequestTracer extends AutoCloseable {

  /** The fraction of requests to trace, in [0, 1]. */
  double sampleRatio();

  void ended(Request request, String listener, String protocol, String group, Outcome outcome,
      double ru, long endNanos);

  /** Flushes what is queued (bounded in time) and stops. */
  @Override
  void close();
}
