package io.mproxy.core.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * TLS from the proxy to a cluster's backends: the cluster option
 * {@code tls: { mode: disable|prefer|require|verify-full, ca: PEM }}, with libpq's meaning of the
 * modes: {@code prefer} uses TLS when the server offers it, {@code require} fails without it but
 * does not check the certificate, {@code verify-full} checks the chain against {@code ca} and the
 * host name.
 */
public final class BackendTls {

  /** How hard the proxy insists on TLS to the backend. */
  public enum Mode {
    DISABLE, PREFER, REQUIRE, VERIFY_FULL;

    public boolean wanted() {
      return this != DISABLE;
    }

    public boolean mandatory() {
      return this == REQUIRE || this == VERIFY_FULL;
    }
  }

  public static final BackendTls DISABLED = new BackendTls(Mode.DISABLE, null, null);

  private final Mode mode;
  private final Path caFile;
  private final SslContext context;

  private BackendTls(Mode mode, Path caFile, SslContext context) {
    this.mode = mode;
    this.caFile = caFile;
    this.context = context;
  }

  /** Reads the option; absent means {@link #DISABLED}; invalid adds problems and returns it too. */
  public static BackendTls parse(Object raw, List<String> problems) {
    if (raw == null) {
      return DISABLED;
    }
    if (!(raw instanceof Map<?, ?> map)) {
      problems.add("tls: must be a mapping with mode (and ca for verify-full)");
      return DISABLED;
    }
    for (Object k : map.keySet()) {
      if (!"mode".equals(k) && !"ca".equals(k)) {
        problems.add("tls." + k + ": unknown key (expected mode, ca)");
      }
    }
    Mode mode = mode(map.get("mode"), problems);
    if (mode == null || mode == Mode.DISABLE) {
      return DISABLED;
    }
    Path ca = null;
    if (mode == Mode.VERIFY_FULL || map.get("ca") != null) {
      ca = TlsFiles.readablePath(map.get("ca"), "tls.ca", problems);
      if (ca == null) {
        return DISABLED;
      }
    }
    try {
      SslContextBuilder b = SslContextBuilder.forClient();
      if (mode == Mode.VERIFY_FULL) {
        b.trustManager(ca.toFile()).endpointIdentificationAlgorithm("HTTPS");
      } else {
        b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
      }
      return new BackendTls(mode, ca, b.build());
    } catch (Exception e) {
      problems.add("tls.ca: cannot use " + ca + ": " + e.getMessage());
      return DISABLED;
    }
  }

  private static Mode mode(Object raw, List<String> problems) {
    if (!(raw instanceof String s)) {
      problems.add("tls.mode: required, one of disable, prefer, require, verify-full");
      return null;
    }
    switch (s.toLowerCase(Locale.ROOT)) {
      case "disable":
        return Mode.DISABLE;
      case "prefer":
        return Mode.PREFER;
      case "require":
        return Mode.REQUIRE;
      case "verify-full":
        return Mode.VERIFY_FULL;
      default:
        problems.add("tls.mode: '" + s + "' is not one of disable, prefer, require, verify-full");
        return null;
    }
  }

  public Mode mode() {
    return mode;
  }

  public Path caFile() {
    return caFile;
  }

  /** The client-side context, or null when TLS is disabled. */
  public SslContext context() {
    return context;
  }
}
