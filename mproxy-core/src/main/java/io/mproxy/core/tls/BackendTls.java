package io.mproxy.core.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * TLS from the proxy to a cluster's backends: the cluster option
 * {@code tls: { mode: disable|prefer|require|verify-full, ca: PEM }}, with libpq's meaning of the
 * modes: {@code prefer} uses TLS when the server offers it, {@code require} fails without it but
 * does not check the certificate, {@code verify-full} checks the chain against {@code ca} and the
 * host name. A {@code ca} file rewritten in place is picked up like a listener's certificate
 * (see {@link TlsReloads}): new backend connections verify against the new content.
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

  public static final BackendTls DISABLED = new BackendTls(Mode.DISABLE, null, null, null);

  private final Mode mode;
  private final Path caFile;
  private final SslContext fixed;
  private final ReloadableContext fromFile;

  private BackendTls(Mode mode, Path caFile, SslContext fixed, ReloadableContext fromFile) {
    this.mode = mode;
    this.caFile = caFile;
    this.fixed = fixed;
    this.fromFile = fromFile;
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
    if (mode != Mode.VERIFY_FULL) {
      try {
        SslContext insecure = SslContextBuilder.forClient()
            .trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null).build();
        return new BackendTls(mode, ca, insecure, null);
      } catch (Exception e) {
        problems.add("tls: cannot build a client TLS context: " + e.getMessage());
        return DISABLED;
      }
    }
    Path caFile = ca;
    ReloadableContext verifying = TlsReloads.context("backend\0" + caFile.toAbsolutePath(), List.of(caFile),
        () -> SslContextBuilder.forClient().trustManager(caFile.toFile()).endpointIdentificationAlgorithm("HTTPS").build(),
        "tls.ca: cannot use " + caFile + ": ", problems);
    return verifying == null ? DISABLED : new BackendTls(mode, caFile, null, verifying);
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

  /** The client-side context for a new connection (the latest built from {@code ca}), or null when TLS is disabled. */
  public SslContext context() {
    return fromFile != null ? fromFile.current() : fixed;
  }

  /**
   * Starts TLS on a connected backend channel: an {@link SslHandler} for the peer's host and port
   * (what {@code verify-full} checks the certificate against) goes first in the pipeline. The
   * returned future completes when the handshake has.
   */
  public Future<Channel> startOn(Channel channel) {
    InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
    SslHandler ssl = context().newHandler(channel.alloc(), remote.getHostString(), remote.getPort());
    channel.pipeline().addFirst("tls", ssl);
    return ssl.handshakeFuture();
  }
}
