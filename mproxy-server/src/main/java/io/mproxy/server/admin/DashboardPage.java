package io.mproxy.server.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The dashboard served at {@code /}: one self-contained HTML page (styles and script inline, no
 * CDN, so it works on an air-gapped host) packaged in the jar. It polls {@code /api/status},
 * {@code /api/fingerprints} and {@code /metrics} from the browser; the proxy does no work for
 * it beyond answering those.
 */
final class DashboardPage {

  static final String RESOURCE = "/io/mproxy/server/admin/dashboard.html";

  /** The page's bytes, read once from the class path. */
  static final byte[] HTML = load();

  private DashboardPage() {
  }

  private static byte[] load() {
    try (InputStream in = DashboardPage.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("dashboard resource missing from the jar: " + RESOURCE);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
