package io.mproxy.server.otel;

import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.server.config.ObservabilityConfig.Otlp;
import io.mproxy.server.observe.RequestTracer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A span per sampled proxied request, exported over OTLP/HTTP. Spans are built after the fact
 * (start = arrival, end = completion), so nothing is kept per request in flight; they go through
 * the SDK's batch processor, whose queue is bounded (a full queue drops spans, never blocks an
 * event loop). Sampling is decided by {@link io.mproxy.server.observe.ObservingTelemetry} before
 * any SDK object is touched; the SDK's own sampler keeps everything it is given.
 */
public final class OtlpSpans implements RequestTracer {

  static final AttributeKey<String> LISTENER = AttributeKey.stringKey("mproxy.listener");
  static final AttributeKey<String> PROTOCOL = AttributeKey.stringKey("mproxy.protocol");
  static final AttributeKey<String> GROUP = AttributeKey.stringKey("mproxy.group");
  static final AttributeKey<String> FINGERPRINT = AttributeKey.stringKey("mproxy.fingerprint");
  static final AttributeKey<Double> RU = AttributeKey.doubleKey("mproxy.ru");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("mproxy.outcome");
  static final AttributeKey<String> KIND = AttributeKey.stringKey("mproxy.kind");
  static final AttributeKey<String> USER = AttributeKey.stringKey("mproxy.tenant.user");
  static final AttributeKey<String> APPLICATION = AttributeKey.stringKey("mproxy.tenant.application");
  static final AttributeKey<String> DATABASE = AttributeKey.stringKey("mproxy.tenant.database");

  private final SdkTracerProvider provider;
  private final Tracer tracer;
  private final Clock clock = Clock.getDefault();
  private final double ratio;

  private OtlpSpans(SdkTracerProvider provider, double ratio) {
    this.provider = provider;
    this.tracer = provider.get("io.mproxy");
    this.ratio = ratio;
  }

  /** Starts the SDK and its exporter for {@code otlp} (its traces must be enabled). */
  public static OtlpSpans start(Otlp otlp, String version) {
    OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint(otlp.signal("/v1/traces").toString())
        .setTimeout(Duration.ofMillis(otlp.timeoutMillis()))
        .build();
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
        AttributeKey.stringKey("service.name"), otlp.serviceName(),
        AttributeKey.stringKey("service.version"), version)));
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(resource)
        .setSampler(Sampler.alwaysOn())
        .addSpanProcessor(BatchSpanProcessor.builder(exporter)
            .setMaxQueueSize(4096)
            .setScheduleDelay(Duration.ofMillis(1_000))
            .build())
        .build();
    return new OtlpSpans(provider, otlp.traceSampleRatio());
  }

  @Override
  public double sampleRatio() {
    return ratio;
  }

  @Override
  public void ended(Request request, String listener, String protocol, String group, Outcome outcome,
      double ru, long endNanos) {
    long now = clock.now();
    long start = now - Math.max(0, endNanos - request.arrivalNanos());
    TenantIdentity tenant = request.tenant();
    var builder = tracer.spanBuilder(protocol + " " + kind(request))
        .setSpanKind(SpanKind.SERVER)
        .setNoParent()
        .setStartTimestamp(start, TimeUnit.NANOSECONDS)
        .setAttribute(LISTENER, listener)
        .setAttribute(PROTOCOL, protocol)
        .setAttribute(GROUP, group)
        .setAttribute(OUTCOME, outcome.label())
        .setAttribute(RU, ru)
        .setAttribute(KIND, kind(request));
    if (request.fingerprint() != null) {
      builder.setAttribute(FINGERPRINT, request.fingerprint());
    }
    if (tenant != null) {
      setIfPresent(builder, USER, tenant.user());
      setIfPresent(builder, APPLICATION, tenant.application());
      setIfPresent(builder, DATABASE, tenant.database());
    }
    Span span = builder.startSpan();
    if (outcome != Outcome.OK) {
      span.setStatus(StatusCode.ERROR, outcome.label());
    }
    span.end(now, TimeUnit.NANOSECONDS);
  }

  private static void setIfPresent(io.opentelemetry.api.trace.SpanBuilder b, AttributeKey<String> key, String value) {
    if (value != null) {
      b.setAttribute(key, value);
    }
  }

  private static String kind(Request request) {
    return request.kind() == null ? "request" : request.kind().name().toLowerCase(Locale.ROOT);
  }

  @Override
  public void close() {
    provider.shutdown().join(5, TimeUnit.SECONDS);
  }
}
