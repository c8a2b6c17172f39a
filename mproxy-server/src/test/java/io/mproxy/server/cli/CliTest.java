package io.mproxy.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.config.TestAdapter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class CliTest {

  private static final String VALID = """
      listeners:
        - { name: cache, protocol: redis, bind: 127.0.0.1:6380, cluster: main }
      clusters:
        main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
      """;

  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private final List<Path> daemonRuns = new ArrayList<>();

  private int execute(String... args) {
    return execute(config -> {
      daemonRuns.add(config);
      return 7;
    }, args);
  }

  private int execute(ToIntFunction<Path> daemon, String... args) {
    CommandLine cli = Cli.commandLine(() -> List.of(TestAdapter.redis()), daemon);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private List<String> outLines() {
    return out.toString().lines().toList();
  }

  private List<String> errLines() {
    return err.toString().lines().toList();
  }

  @Test
  void checkPrintsEveryLocatedProblemOnStderrAndExits1() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, """
        admin: { bind: nowhere }
        resource_groups: { batch: { ru_per_sec: -5 } }
        """);

    assertEquals(1, execute("check", "--config", file.toString()));
    assertEquals(List.of(
        file + ":1:16: bind: 'nowhere' (expected: host:port)",
        file + ":2:41: ru_per_sec: -5 (expected: > 0)"), errLines());
    assertEquals("", out.toString());
  }

  @Test
  void checkOfAValidFileSaysOkAndExits0() throws Exception {
    Path file = dir.resolve("good.yaml");
    Files.writeString(file, VALID);

    assertEquals(0, execute("check", "--config", file.toString()));
    assertEquals(List.of(file + ": ok"), outLines());
    assertEquals("", err.toString());
  }

  @Test
  void checkOfAMissingFileIsAProblem() {
    Path file = dir.resolve("absent.yaml");
    assertEquals(1, execute("check", "--config", file.toString()));
    assertEquals(List.of(file + ":1:1: cannot read: no such file"), errLines());
  }

  @Test
  void checkUsesTheGivenAdapters() throws Exception {
    Path file = dir.resolve("pg.yaml");
    Files.writeString(file, "clusters: { pg: { protocol: postgres, backends: [ { address: h:5432 } ] } }\n");
    assertEquals(1, execute("check", "--config", file.toString()));
    assertEquals(List.of(file + ":1:29: protocol: 'postgres' (expected one of: redis)"), errLines());
  }

  @Test
  void versionPrintsTheBuildVersion() {
    assertEquals(0, execute("version"));
    String line = out.toString().strip();
    assertTrue(line.startsWith("mproxy "), line);
    assertTrue(line.matches("mproxy \\d+\\.\\d+\\.\\d+.*"), "version not filtered in: " + line);

    out.getBuffer().setLength(0);
    assertEquals(0, execute("--version"));
    assertEquals(line, out.toString().strip());
  }

  @Test
  void runIsTheDefaultCommand() {
    assertEquals(7, execute("--config", "proxy.yaml"));
    assertEquals(7, execute("run", "--config", "other.yaml"));
    assertEquals(List.of(Path.of("proxy.yaml"), Path.of("other.yaml")), daemonRuns);
  }

  @Test
  void withoutConfigOrCommandItIsAUsageError() {
    assertEquals(2, execute());
    assertTrue(err.toString().contains("Missing required option: '--config=FILE'"), err.toString());
    assertEquals(List.of(), daemonRuns);
  }

  @Test
  void aFailingDaemonExits1WithTheCause() {
    int code = execute(config -> {
      throw new IllegalStateException("port in use");
    }, "run", "--config", "proxy.yaml");
    assertEquals(1, code);
    assertEquals("mproxy run: java.lang.IllegalStateException: port in use", errLines().get(0));
  }

  @Test
  void demoRunsForTheGivenSecondsAndStopsEverything() {
    assertEquals(0, execute("demo", "--port", "0", "--admin-port", "0", "--seconds", "4", "--plain"));
    String text = out.toString();
    assertTrue(text.contains("HIGH interactive") && text.contains("LOW batch flood") && text.contains("runaway query"),
        text);
    assertTrue(text.contains("dashboard http://127.0.0.1:"), text);
    assertEquals("mproxy demo: stopped.", outLines().get(outLines().size() - 1), text);
  }

  @Test
  void simulateListsTheScenarios() {
    assertEquals(0, execute("simulate", "--list"));
    List<String> names = out.toString().lines().map(l -> l.split(" ")[0]).toList();
    assertEquals(List.of("noisy-neighbour", "retry-storm", "runaway", "backend-crash", "slow-backend", "partition",
        "thousand-tenants", "fleet-100"), names);
  }

  @Test
  void simulateRunsAScenarioAndPrintsTheSameTableForTheSameSeed() {
    assertEquals(0, execute("simulate", "retry-storm", "--seed", "3"));
    String first = out.toString();
    assertTrue(first.startsWith("scenario retry-storm  seed 3\n"), first);
    assertTrue(first.contains("\ntenant ") && first.contains("\nretry-now ") && first.contains("p999_ms"), first);
    assertTrue(first.contains("result: PASS"), first);
    out.getBuffer().setLength(0);
    assertEquals(0, execute("simulate", "retry-storm", "--seed", "3"));
    assertEquals(first, out.toString());
    out.getBuffer().setLength(0);
    assertEquals(0, execute("simulate", "retry-storm", "--seed", "4"));
    assertTrue(!first.equals(out.toString()), "another seed, another run");
  }

  @Test
  void simulateRefusesAnUnknownScenario() {
    assertEquals(2, execute("simulate", "no-such-thing", "--seed", "1"));
    assertEquals(List.of("unknown scenario 'no-such-thing' (see --list)"), errLines());
  }

  @ParameterizedTest
  @ValueSource(strings = {"run", "check", "demo", "simulate", "version"})
  void everyCommandHasHelp(String command) {
    assertEquals(0, execute(command, "--help"));
    assertTrue(out.toString().startsWith("Usage: mproxy " + command), out.toString());
  }

  @Test
  void topLevelHelpListsTheCommands() {
    assertEquals(0, execute("--help"));
    for (String command : List.of("run", "check", "demo", "simulate", "version")) {
      assertTrue(out.toString().contains("\n  " + command + " "), command + " missing in " + out);
    }
    out.getBuffer().setLength(0);
    assertEquals(0, execute("help", "check"));
    assertTrue(out.toString().startsWith("Usage: mproxy check"), out.toString());
  }
}
