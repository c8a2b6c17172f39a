package io.mproxy.server.admin;

import io.mproxy.testkit.Binaries;
import io.mproxy.testkit.ChildProcesses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code chromium} run headless to load a page, let its scripts run for a (virtual)
 * time budget and print the resulting DOM: enough to test that the dashboard renders what the
 * admin API says and keeps refreshing, with the browser operators use.
 */
final class HeadlessChromium {

  private static final long PROCESS_TIMEOUT_SECONDS = 90;

  private HeadlessChromium() {
  }

  /** The DOM of {@code url} after its scripts ran for {@code budgetMillis} of virtual time. */
  static String dumpDom(String url, long budgetMillis) throws IOException, InterruptedException {
    Path chromium = Binaries.require("chromium", "chromium");
    Path profile = Files.createTempDirectory("mproxy-chromium-");
    Path stdout = profile.resolve("dom.html");
    Path stderr = profile.resolve("stderr.txt");
    try {
      ProcessBuilder pb = new ProcessBuilder(List.of(chromium.toString(), "--headless", "--no-sandbox",
          "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
          "--user-data-dir=" + profile.resolve("profile"),
          "--virtual-time-budget=" + budgetMillis, "--dump-dom", url))
          .redirectOutput(stdout.toFile())
          .redirectError(stderr.toFile());
      Process p = ChildProcesses.start(pb);
      if (!p.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        ChildProcesses.kill(p, 5_000);
        throw new AssertionError("chromium did not finish within " + PROCESS_TIMEOUT_SECONDS + " s: "
            + tail(stderr));
      }
      String dom = Files.readString(stdout, StandardCharsets.UTF_8);
      if (p.exitValue() != 0 || dom.isBlank()) {
        throw new AssertionError("chromium exited " + p.exitValue() + " with " + dom.length()
            + " chars of DOM: " + tail(stderr));
      }
      return dom;
    } finally {
      deleteRecursively(profile);
    }
  }

  private static String tail(Path file) throws IOException {
    if (!Files.exists(file)) {
      return "(no stderr)";
    }
    String s = Files.readString(file, StandardCharsets.UTF_8);
    return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
