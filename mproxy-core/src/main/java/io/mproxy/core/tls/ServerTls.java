package io.mproxy.core.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * TLS that a listener offers its clients: the listener option {@code tls: { cert: PEM, key: PEM }}.
 * The context is built when the option is read, so a bad certificate is a configuration error
 * (reported by {@code check} and refused on reload) rather than a failed handshake at 3 a.m.
 * A new instance is read on every reload, which is how certificates are rotated.
 */
public final class ServerTls {

  private final Path certFile;
  private final Path keyFile;
  private final SslContext context;

  private ServerTls(Path certFile, Path keyFile, SslContext context) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.context = context;
  }

  /**
   * Reads the {@code tls} option value; returns null when it is absent, or when it is invalid (then
   * each problem is added to {@code problems} as {@code tls.key: message}).
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
    try {
      SslContext ctx = SslContextBuilder.forServer(cert.toFile(), key.toFile()).build();
      return new ServerTls(cert, key, ctx);
    } catch (Exception e) {
      problems.add("tls: cannot use cert " + cert + " with key " + key + ": " + e.getMessage()
          + " (the key must be an unencrypted PEM, PKCS#8 or PKCS#1)");
      return null;
    }
  }

  public Path certFile() {
    return certFile;
  }

  public Path keyFile() {
    return keyFile;
  }

  /** The server-side context; {@code context().newHandler(alloc)} starts a handshake. */
  public SslContext context() {
    return context;
  }
}
