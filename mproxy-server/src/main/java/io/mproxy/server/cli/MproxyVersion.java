package io.mproxy.server.cli;

import io.mproxy.server.Main;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * The version this build reports: the shaded jar's {@code Implementation-Version}, else the
 * {@code version.properties} resource Maven filters at build time (classes run from an IDE or
 * {@code target/classes}), else {@code unknown}.
 */
public final class MproxyVersion implements IVersionProvider {

  static final String RESOURCE = "/version.properties";

  public static String version() {
    String fromManifest = Main.class.getPackage().getImplementationVersion();
    if (fromManifest != null && !fromManifest.isBlank()) {
      return fromManifest;
    }
    try (InputStream in = MproxyVersion.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        Properties properties = new Properties();
        properties.load(in);
        String version = properties.getProperty("version", "").strip();
        if (!version.isEmpty() && !version.contains("${")) {
          return version;
        }
      }
    } catch (IOException e) {
      // fall through: a build without the resource still starts
    }
    return "unknown";
  }

  /** What {@code mproxy version} and {@code --version} print. */
  public static String line() {
    return "mproxy " + version();
  }

  @Override
  public String[] getVersion() {
    return new String[] {line()};
  }
}
