package io.mproxy.server.it.mysql;

import io.mproxy.testkit.Binaries;
import io.mproxy.testkit.ChildProcesses;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the command-line tools of the MySQL world (mariadb, sysbench) against the proxy. */
final class Tools {

  /** Exit code and combined output of one run. */
  record Result(int exit, String output) {
  }

  private Tools() {
  }

  static Result mariadb(int port, String user, String password, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Binaries.require("mariadb", "mariadb-client").toString(),
        "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", Integer.toString(port), "-u", user,
        "-p" + password));
    cmd.addAll(List.of(args));
    return run(cmd, null, 60);
  }

  static Result mariadbStdin(int port, String user, String password, String stdin, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Binaries.require("mariadb", "mariadb-client").toString(),
        "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", Integer.toString(port), "-u", user,
        "-p" + password));
    cmd.addAll(List.of(args));
    return run(cmd, stdin, 60);
  }

  static Result sysbench(List<String> args, long timeoutSeconds) {
    List<String> cmd = new ArrayList<>(List.of(Binaries.require("sysbench", "sysbench").toString()));
    cmd.addAll(args);
    return run(cmd, null, timeoutSeconds);
  }

  static Result run(List<String> command, String stdin, long timeoutSeconds) {
    Path out = null;
    Path in = null;
    try {
      out = Files.createTempFile("mproxy-tool-", ".out");
      ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
      if (stdin != null) {
        in = Files.createTempFile("mproxy-tool-", ".in");
        Files.writeString(in, stdin, StandardCharsets.UTF_8);
        b.redirectInput(in.toFile());
      } else {
        b.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      }
      Process p = ChildProcesses.start(b);
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        ChildProcesses.kill(p, 10_000);
        throw new IllegalStateException(command.get(0) + " did not finish within " + timeoutSeconds + " s: "
            + Files.readString(out, StandardCharsets.UTF_8));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      for (Path p : new Path[] {out, in}) {
        if (p != null) {
          try {
            Files.deleteIfExists(p);
          } catch (IOException ignored) {
            // a stray temp file is harmless
          }
        }
      }
    }
  }
}
