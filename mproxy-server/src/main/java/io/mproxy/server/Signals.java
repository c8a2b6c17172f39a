package io.mproxy.server;

import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a callback instead of an abrupt JVM exit, so the daemon can
 * drain and exit 0 as the CLI contract says.
 */
final class Signals {

  private Signals() {
  }

  @SuppressWarnings("removal")
  static void onTermination(Runnable action) {
    Signal.handle(new Signal("TERM"), s -> action.run());
    Signal.handle(new Signal("INT"), s -> action.run());
  }
}
