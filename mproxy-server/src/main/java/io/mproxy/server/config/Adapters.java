package io.mproxy.server.config;

import io.mproxy.core.spi.ProtocolAdapter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/** The protocol adapters a config may name, by their {@code protocol:} value. */
final class Adapters {

  private final Map<String, ProtocolAdapter> byProtocol = new TreeMap<>();

  Adapters(Collection<? extends ProtocolAdapter> adapters) {
    for (ProtocolAdapter adapter : adapters) {
      ProtocolAdapter other = byProtocol.putIfAbsent(adapter.protocol(), adapter);
      if (other != null) {
        throw new IllegalArgumentException("two protocol adapters for '" + adapter.protocol()
            + "': " + other.getClass().getName() + " and " + adapter.getClass().getName());
      }
    }
  }

  /** Reads the required {@code protocol} key; reports it when missing or when no adapter has it. */
  Optional<ProtocolAdapter> protocolOf(MapReader reader) {
    if (!reader.has("protocol")) {
      reader.report(reader.mark(), "protocol: missing (" + expected() + ")");
      return Optional.empty();
    }
    Optional<String> name = reader.string("protocol");
    if (name.isEmpty()) {
      return Optional.empty();
    }
    for (ProtocolAdapter adapter : byProtocol.values()) {
      if (adapter.protocol().equalsIgnoreCase(name.get().strip())) {
        return Optional.of(adapter);
      }
    }
    reader.report(reader.valueMark("protocol"), "protocol: '" + name.get() + "' (" + expected() + ")");
    return Optional.empty();
  }

  /**
   * Runs an adapter's own checks and reports each {@code key: message} at that key of the
   * section; an adapter that throws is reported instead of aborting the load.
   */
  static void validate(ProtocolAdapter adapter, MapReader section, Supplier<List<String>> check) {
    List<String> messages;
    try {
      messages = check.get();
    } catch (RuntimeException e) {
      section.report(section.mark(), "protocol " + adapter.protocol() + " could not check this section: " + e);
      return;
    }
    if (messages != null) {
      messages.forEach(m -> section.report(section.locate(m), m));
    }
  }

  private String expected() {
    if (byProtocol.isEmpty()) {
      return "no protocol adapters are installed";
    }
    return "expected one of: " + String.join(", ", byProtocol.keySet());
  }
}
