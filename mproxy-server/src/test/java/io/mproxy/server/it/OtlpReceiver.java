package io.mproxy.server.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

/**
 * A minimal OTLP/HTTP collector on loopback: accepts {@code POST /v1/traces} and
 * {@code POST /v1/metrics} with {@code application/x-protobuf} bodies, decodes them with the
 * opentelemetry-proto classes and keeps what arrived. Anything else gets a 4xx and is counted.
 */
final class OtlpReceiver implements AutoCloseable {

  private final HttpServer server;
  private final ExecutorService executor = Executors.newSingleThreadExecutor();
  private final List<Span> spans = new ArrayList<>();
  private final List<ExportMetricsServiceRequest> metrics = new ArrayList<>();
  private final List<String> refused = new ArrayList<>();

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.createContext("/v1/traces", ex -> handle(ex, true));
    server.createContext("/v1/metrics", ex -> handle(ex, false));
    server.setExecutor(executor);
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange ex, boolean traces) throws IOException {
    try (ex; InputStream in = ex.getRequestBody()) {
      byte[] body = in.readAllBytes();
      String type = ex.getRequestHeaders().getFirst("Content-Type");
      if (!"POST".equals(ex.getRequestMethod()) || type == null || !type.startsWith("application/x-protobuf")
          || body.length == 0) {
        synchronized (this) {
          refused.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + type + " " + body.length + " bytes");
        }
        ex.sendResponseHeaders(415, -1);
        return;
      }
      if (traces) {
        ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(body);
        synchronized (this) {
          for (ResourceSpans rs : req.getResourceSpansList()) {
            for (ScopeSpans ss : rs.getScopeSpansList()) {
              spans.addAll(ss.getSpansList());
            }
          }
        }
      } else {
        ExportMetricsServiceRequest req = ExportMetricsServiceRequest.parseFrom(body);
        synchronized (this) {
          metrics.add(req);
        }
      }
      ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, -1);
    }
  }

  synchronized List<Span> spans() {
    return List.copyOf(spans);
  }

  synchronized List<ExportMetricsServiceRequest> metrics() {
    return List.copyOf(metrics);
  }

  synchronized List<String> refused() {
    return List.copyOf(refused);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
