package io.mproxy.server.config;

import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.server.Transport;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the YAML config file into a validated, immutable {@link ProxyConfig}, reporting every
 * problem with its line and column instead of stopping at the first one.
 *
 * <p>The text is read into a located tree ({@link YamlReader}), then bound section by section;
 * each key has a type, a default and a range. Protocol-specific keys of listeners and clusters
 * are accepted only when the protocol's {@link ProtocolAdapter} lists them, and the adapter then
 * validates them. Instances are immutable and may be shared; loading does blocking I/O, so it
 * belongs on a reload thread, never on an event loop.
 */
public final class ConfigLoader {

  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  /** A YAML key whose value is a secret (the value itself is never looked at). */
  private static final Pattern SECRET_KEY = Pattern.compile(
      "(?m)^[^#\\n]*?\\b(password|scram_verifier|token|secret)\\s*:\\s*[^\\s#]");

  private final Adapters adapters;
  private final Function<Transport, Optional<Throwable>> transportAvailability;

  /**
   * @param adapters the protocols a config may use; two adapters of one protocol are refused
   * @throws IllegalArgumentException when two adapters claim the same protocol
   */
  public ConfigLoader(Collection<? extends ProtocolAdapter> adapters) {
    this(adapters, Transport::unavailabilityCause);
  }

  /** As above, asking {@code transportAvailability} whether a transport can run (tests inject it). */
  ConfigLoader(Collection<? extends ProtocolAdapter> adapters,
      Function<Transport, Optional<Throwable>> transportAvailability) {
    this.adapters = new Adapters(List.copyOf(adapters));
    this.transportAvailability = transportAvailability;
  }

  /** Reads and validates {@code file}; problems name the file as given. */
  public LoadResult load(Path file) {
    String name = file.toString();
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      return LoadResult.invalid(List.of(new ConfigProblem(name, 1, 1, "cannot read: " + reason(e))));
    }
    secretsReadableByOthers(file, text).ifPresent(warning -> LOG.warn("{}", warning));
    return parse(name, text);
  }

  /**
   * A warning when {@code file} holds a secret (a password, SCRAM verifier or token key) and its
   * POSIX permissions let its group or others read it; empty otherwise, and on file systems
   * without POSIX permissions. Loading goes on: the warning tells the operator to chmod 600.
   */
  static Optional<String> secretsReadableByOthers(Path file, String text) {
    Matcher secret = SECRET_KEY.matcher(text);
    if (!secret.find()) {
      return Optional.empty();
    }
    Set<PosixFilePermission> permissions;
    try {
      permissions = Files.getPosixFilePermissions(file);
    } catch (UnsupportedOperationException | IOException e) {
      return Optional.empty();
    }
    List<String> readers = new ArrayList<>();
    if (permissions.contains(PosixFilePermission.GROUP_READ)) {
      readers.add("its group");
    }
    if (permissions.contains(PosixFilePermission.OTHERS_READ)) {
      readers.add("others");
    }
    if (readers.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(file + ": holds secrets ('" + secret.group(1) + "' and maybe more) but is readable by "
        + String.join(" and ", readers) + " (" + PosixFilePermissions.toString(permissions)
        + "): restrict it, e.g. chmod 600 " + file);
  }

  /** Validates YAML text; {@code fileNameForMessages} is the file name problems carry. */
  public LoadResult parse(String fileNameForMessages, String yamlText) {
    Problems problems = new Problems(fileNameForMessages);
    ConfigBinder binder = new ConfigBinder(adapters, problems, transportAvailability);
    Optional<ProxyConfig> config = YamlReader.read(yamlText, problems).flatMap(binder::bind);
    if (config.isPresent() && problems.isEmpty()) {
      return LoadResult.valid(config.get(), binder.observability());
    }
    return LoadResult.invalid(problems.inFileOrder());
  }

  private static String reason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof CharacterCodingException) {
      return "not UTF-8 text";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
