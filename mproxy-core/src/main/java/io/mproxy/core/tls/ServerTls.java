package io.mproxy.core.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * TLS that a listener offers its clients: the listener option {@code tls: { cert: PEM, key: PEM }}.
 * The context is built, and a handshake run against it in memory, when the option is read, so a
 * bad certificate or a key of another certificate is a configuration error
 * (reported by {@code check} and refused on reload) rather than a failed handshake at 3 a.m.
 * Certificates rotate without a restart: when the files' content changes (checked on every
 * reload and periodically by the daemon, see {@link TlsReloads}) the context is rebuilt and
 * {@link #context()} returns the new one; a new content that does not build keeps the old one.
 */
public final class ServerTls {

  private final Path certFile;
  private final Path keyFile;
  private final ReloadableContext context;

  private ServerTls(Path certFile, Path keyFile, ReloadableContext context) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.context = context;
  }

  /**
   * Reads the {@code tls} option value; returns null when it is absent, or when it is invalid (then
   * each problem is added to {@code problems} as {@code tls.key: message}). Files that were usable
   * before and are not now add a problem but still give an instance serving the previous
   * certificate, so that options read again while running never drop TLS.
   */
  public static ServerTls parse(Object raw, List<String> problems) {
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof Map<?, ?> map)) {
      problems.add("tls: must be a mapping with cert and key");
      return null;
    }
    for (Object k : map.keySet()) {
      if (!"cert".equals(k) && !"key".equals(k)) {
        problems.add("tls." + k + ": unknown key (expected cert, key)");
      }
    }
    Path cert = TlsFiles.readablePath(map.get("cert"), "tls.cert", problems);
    Path key = TlsFiles.readablePath(map.get("key"), "tls.key", problems);
    if (cert == null || key == null) {
      return null;
    }
    ReloadableContext ctx = TlsReloads.context("server\0" + cert.toAbsolutePath() + '\0' + key.toAbsolutePath(),
        List.of(cert, key), () -> TlsSelfCheck.verified(SslContextBuilder.forServer(cert.toFile(), key.toFile()).build()),
        "tls: cannot use cert " + cert + " with key " + key
            + " (the key must be an unencrypted PEM, PKCS#8 or PKCS#1): ", problems);
    return ctx == null ? null : new ServerTls(cert, key, ctx);
  }

  public Path certFile() {
    return certFile;
  }

  public Path keyFile() {
    return keyFile;
  }

  /**
   * The server-side context for a new handshake, the latest one built from the files;
   * {@code context().newHandler(alloc)} starts a handshake.
   */
  public SslContext context() {
    return context.current();
  }
}
