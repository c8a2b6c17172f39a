package io.mproxy.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build: from the jar manifest, else from the filtered version.properties. */
public final class Version {

  private static final String VERSION = load();

  private Version() {
  }

  public static String current() {
    return VERSION;
  }

  private static String load() {
    String v = Version.class.getPackage().getImplementationVersion();
    if (v != null) {
      return v;
    }
    try (InputStream in = Version.class.getResourceAsStream("/version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String fromFile = p.getProperty("version");
        if (fromFile != null && !fromFile.startsWith("${")) {
          return fromFile;
        }
      }
    } catch (IOException e) {
      // fall through
    }
    return "unknown";
  }
}
