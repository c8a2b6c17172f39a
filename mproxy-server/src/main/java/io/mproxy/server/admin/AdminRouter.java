package io.mproxy.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.server.RuntimeView;
import io.mproxy.server.metrics.RuntimeGauges;
import io.mproxy.server.usage.UsageDocument;
import io.mproxy.server.usage.UsageMeter;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps a method and URI to an admin {@link Reply}. Cheap answers ({@code /}, {@code /healthz},
 * errors) are computed on the calling event loop; scraping, status and fingerprints run on the
 * admin worker thread, reloads on the reload thread. Both run one task at a time behind a
 * bounded queue: when it is full the answer is 503 rather than an ever-growing backlog.
 */
final class AdminRouter {

  static final int DEFAULT_TOP = 20;
  static final int MAX_TOP = 1000;
  static final long DEFAULT_USAGE_WINDOW_SECONDS = 300;
  static final String CSV = "text/csv; charset=utf-8";

  private static final Logger LOG = LoggerFactory.getLogger(AdminRouter.class);
  private static final String GET = "GET, HEAD";
  private static final String POST = "POST";

  private final RuntimeView view;
  private final PrometheusMeterRegistry registry;
  private final RuntimeGauges gauges;
  private final ReloadAction reload;
  private final Executor worker;
  private final Executor reloader;
  private final ObjectMapper mapper;
  private final AdminJson json;
  private final UsageMeter usage;

  AdminRouter(RuntimeView view, PrometheusMeterRegistry registry, RuntimeGauges gauges, ReloadAction reload,
      RuRateSampler rates, Executor worker, Executor reloader) {
    this(view, registry, gauges, reload, rates, worker, reloader, null);
  }

  AdminRouter(RuntimeView view, PrometheusMeterRegistry registry, RuntimeGauges gauges, ReloadAction reload,
      RuRateSampler rates, Executor worker, Executor reloader, UsageMeter usage) {
    this.usage = usage;
    this.view = view;
    this.registry = registry;
    this.gauges = gauges;
    this.reload = reload;
    this.worker = worker;
    this.reloader = reloader;
    this.mapper = new ObjectMapper();
    this.json = new AdminJson(mapper, view, rates);
  }

  /** The answer to one request; completes on an admin thread when it is not immediate. */
  CompletableFuture<Reply> route(HttpMethod method, String uri) {
    QueryStringDecoder query = new QueryStringDecoder(uri);
    switch (query.path()) {
      case "/":
        return get(method) ? done(new Reply(HttpResponseStatus.OK, Reply.HTML, DashboardPage.HTML, null))
            : done(Reply.methodNotAllowed(GET));
      case "/healthz":
        return get(method) ? done(health()) : done(Reply.methodNotAllowed(GET));
      case "/metrics":
        return get(method) ? async(worker, this::metrics) : done(Reply.methodNotAllowed(GET));
      case "/api/status":
        return get(method) ? async(worker, () -> ok(json.status())) : done(Reply.methodNotAllowed(GET));
      case "/api/fingerprints":
        return get(method) ? fingerprints(query) : done(Reply.methodNotAllowed(GET));
      case "/api/usage":
        return get(method) ? usage(query) : done(Reply.methodNotAllowed(GET));
      case "/api/reload":
        return HttpMethod.POST.equals(method) ? async(reloader, this::reload) : done(Reply.methodNotAllowed(POST));
      default:
        return done(error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + query.path()));
    }
  }

  private Reply health() {
    return view.ready()
        ? Reply.text(HttpResponseStatus.OK, "ok\n")
        : Reply.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "starting\n");
  }

  private Reply metrics() {
    gauges.refresh();
    return Reply.of(HttpResponseStatus.OK, Reply.PROMETHEUS, registry.scrape());
  }

  private CompletableFuture<Reply> fingerprints(QueryStringDecoder query) {
    List<String> values = query.parameters().get("top");
    int top = DEFAULT_TOP;
    if (values != null && !values.isEmpty()) {
      String v = values.get(values.size() - 1);
      try {
        top = Integer.parseInt(v.trim());
      } catch (NumberFormatException e) {
        top = 0;
      }
      if (top < 1) {
        return done(error(HttpResponseStatus.BAD_REQUEST, "top: '" + v + "' (expected: 1.." + MAX_TOP + ")"));
      }
    }
    int n = Math.min(top, MAX_TOP);
    return async(worker, () -> ok(json.fingerprints(n)));
  }

  /** {@code /api/usage?window=SECONDS&top=N&format=json|csv}. */
  private CompletableFuture<Reply> usage(QueryStringDecoder query) {
    if (usage == null) {
      return done(error(HttpResponseStatus.NOT_FOUND, "usage metering is not enabled on this server"));
    }
    long maxWindow = usage.maxWindowMillis() / 1000;
    String windowText = last(query, "window", Long.toString(DEFAULT_USAGE_WINDOW_SECONDS));
    long window = parse(windowText);
    if (window < 1 || window > maxWindow) {
      return done(error(HttpResponseStatus.BAD_REQUEST,
          "window: '" + windowText + "' (expected: seconds, 1.." + maxWindow + ")"));
    }
    String topText = last(query, "top", Integer.toString(DEFAULT_TOP));
    long top = parse(topText);
    if (top < 1) {
      return done(error(HttpResponseStatus.BAD_REQUEST, "top: '" + topText + "' (expected: 1.." + MAX_TOP + ")"));
    }
    String format = last(query, "format", "json");
    if (!format.equals("json") && !format.equals("csv")) {
      return done(error(HttpResponseStatus.BAD_REQUEST, "format: '" + format + "' (expected: json or csv)"));
    }
    int n = (int) Math.min(top, MAX_TOP);
    return async(worker, () -> {
      UsageMeter.Report report = usage.report(window * 1000, n);
      return format.equals("csv")
          ? Reply.of(HttpResponseStatus.OK, CSV, UsageDocument.csv(report))
          : ok(UsageDocument.json(mapper, report));
    });
  }

  private static String last(QueryStringDecoder query, String name, String otherwise) {
    List<String> values = query.parameters().get(name);
    return values == null || values.isEmpty() ? otherwise : values.get(values.size() - 1).trim();
  }

  private static long parse(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private Reply reload() {
    ReloadResult r;
    try {
      r = reload.reload();
    } catch (RuntimeException e) {
      LOG.warn("reload failed unexpectedly", e);
      ObjectNode body = mapper.createObjectNode().put("ok", false);
      body.putArray("errors").add("internal error: " + e);
      return Reply.json(HttpResponseStatus.INTERNAL_SERVER_ERROR, bytes(body));
    }
    ObjectNode body = mapper.createObjectNode();
    body.put("ok", r.ok());
    body.put("generation", r.generation());
    if (r.ok()) {
      return ok(body);
    }
    r.errors().forEach(body.putArray("errors")::add);
    return Reply.json(HttpResponseStatus.BAD_REQUEST, bytes(body));
  }

  /** An error answer as JSON: {@code {"error": message}}. */
  Reply error(HttpResponseStatus status, String message) {
    ObjectNode body = mapper.createObjectNode().put("error", message);
    return Reply.json(status, bytes(body));
  }

  private Reply ok(JsonNode body) {
    return Reply.json(HttpResponseStatus.OK, bytes(body));
  }

  private byte[] bytes(JsonNode node) {
    try {
      return mapper.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private CompletableFuture<Reply> async(Executor executor, Supplier<Reply> task) {
    try {
      return CompletableFuture.supplyAsync(task, executor);
    } catch (RejectedExecutionException busy) {
      return done(error(HttpResponseStatus.SERVICE_UNAVAILABLE, "admin busy, retry shortly"));
    }
  }

  private static boolean get(HttpMethod method) {
    return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
  }

  private static CompletableFuture<Reply> done(Reply reply) {
    return CompletableFuture.completedFuture(reply);
  }
}
