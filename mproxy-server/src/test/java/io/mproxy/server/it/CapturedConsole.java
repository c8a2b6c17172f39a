package io.mproxy.server.it;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies everything written to {@code System.out} and {@code System.err} into memory while still
 * passing it on, so a test can assert on the log lines the daemon's console appenders wrote
 * (Logback's console targets look up {@code System.err}/{@code System.out} on every write).
 */
final class CapturedConsole implements AutoCloseable {

  private final PrintStream originalOut = System.out;
  private final PrintStream originalErr = System.err;
  private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

  CapturedConsole() {
    System.setOut(new PrintStream(new Tee(originalOut), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(new Tee(originalErr), true, StandardCharsets.UTF_8));
  }

  String text() {
    synchronized (captured) {
      return captured.toString(StandardCharsets.UTF_8);
    }
  }

  @Override
  public void close() {
    System.setOut(originalOut);
    System.setErr(originalErr);
  }

  private final class Tee extends OutputStream {
    private final OutputStream next;

    Tee(OutputStream next) {
      this.next = next;
    }

    @Override
    public void write(int b) {
      synchronized (captured) {
        captured.write(b);
      }
      try {
        next.write(b);
      } catch (java.io.IOException e) {
        // the original console is gone; the copy is what the test reads
      }
    }

    @Override
    public void write(byte[] b, int off, int len) {
      synchronized (captured) {
        captured.write(b, off, len);
      }
      try {
        next.write(b, off, len);
      } catch (java.io.IOException e) {
        // as above
      }
    }
  }
}
