package io.mproxy.gossip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * {@link ShareReport} as a small JSON document carried as a string in a gossip message: readable
 * in a packet capture, independent of Java serialization, and bounded. Anything that is not a
 * well-formed report within the bounds decodes to empty; a peer cannot make this node throw.
 *
 * <pre>{"v":1,"node":"id","seq":7,"groups":{"batch":{"d":812.5,"s":1950.0}}}</pre>
 */
public final class ShareReportCodec {

  /** Longest report accepted, in characters (a fleet with many groups still fits easily). */
  public static final int MAX_CHARS = 64 * 1024;
  /** Most groups one report may carry. */
  public static final int MAX_GROUPS = 1_024;
  static final int MAX_NAME = 256;
  private static final int VERSION = 1;

  private final ObjectMapper mapper = new ObjectMapper();

  public String encode(ShareReport report) {
    ObjectNode root = mapper.createObjectNode();
    root.put("v", VERSION);
    root.put("node", report.node());
    root.put("seq", report.seq());
    ObjectNode groups = root.putObject("groups");
    report.groups().forEach((name, f) -> groups.putObject(name).put("d", f.demand()).put("s", f.share()));
    try {
      return mapper.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a share report", e);
    }
  }

  public Optional<ShareReport> decode(Object data) {
    if (!(data instanceof String text) || text.length() > MAX_CHARS) {
      return Optional.empty();
    }
    JsonNode root;
    try {
      root = mapper.readTree(text);
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
    if (root == null || !root.isObject() || root.path("v").asInt(-1) != VERSION) {
      return Optional.empty();
    }
    JsonNode node = root.get("node");
    JsonNode seq = root.get("seq");
    JsonNode groups = root.get("groups");
    if (node == null || !node.isTextual() || node.asText().isEmpty() || node.asText().length() > MAX_NAME
        || seq == null || !seq.canConvertToLong() || groups == null || !groups.isObject()
        || groups.size() > MAX_GROUPS) {
      return Optional.empty();
    }
    Map<String, ShareReport.GroupFigures> figures = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = groups.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      Optional<ShareReport.GroupFigures> f = figures(e.getKey(), e.getValue());
      if (f.isEmpty()) {
        return Optional.empty();
      }
      figures.put(e.getKey(), f.get());
    }
    return Optional.of(new ShareReport(node.asText(), seq.asLong(), figures));
  }

  private static Optional<ShareReport.GroupFigures> figures(String name, JsonNode g) {
    if (name.isEmpty() || name.length() > MAX_NAME || !g.isObject()) {
      return Optional.empty();
    }
    JsonNode d = g.get("d");
    JsonNode s = g.get("s");
    if (d == null || s == null || !d.isNumber() || !s.isNumber()) {
      return Optional.empty();
    }
    double demand = d.asDouble();
    double share = s.asDouble();
    if (!Double.isFinite(demand) || !Double.isFinite(share) || demand < 0 || share < 0) {
      return Optional.empty();
    }
    return Optional.of(new ShareReport.GroupFigures(demand, share));
  }
}
