package io.mproxy.server.admin;

/** The page served at {@code /}: a placeholder that links the API until the dashboard lands. */
final class DashboardPage {

  static final String HTML = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <title>mproxy</title>
      </head>
      <body>
      <h1>mproxy</h1>
      <ul>
      <li><a href="/api/status">/api/status</a> &mdash; listeners, clusters, resource groups</li>
      <li><a href="/metrics">/metrics</a> &mdash; Prometheus metrics</li>
      <li><a href="/api/fingerprints">/api/fingerprints</a> &mdash; top query shapes by RU</li>
      </ul>
      </body>
      </html>
      """;

  private DashboardPage() {
  }
}
