package io.mproxy.gossip;

import io.scalecube.cluster.transport.api.Message;
import io.scalecube.cluster.transport.api.MessageCodec;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;

/**
 * scalecube's own SWIM messages (pings, membership sync, gossip envelopes) are Java-externalized
 * objects, so the transport needs a Java codec for them; this one only ever materialises
 * scalecube's membership types, strings and plain collections, with bounded size, depth and
 * references. mproxy's own payloads travel as JSON strings inside ({@link ShareReportCodec}), so
 * no mproxy class is ever deserialized from the network.
 */
final class FilteredJdkMessageCodec implements MessageCodec {

  static final ObjectInputFilter FILTER = ObjectInputFilter.Config.createFilter(
      "maxbytes=" + FleetNode.MAX_FRAME_BYTES + ";maxdepth=20;maxrefs=20000;maxarray=" + FleetNode.MAX_FRAME_BYTES
          + ";io.scalecube.cluster.**;java.lang.String;java.lang.Enum;java.lang.Number;java.lang.Long;"
          + "java.lang.Integer;java.lang.Boolean;java.util.*;!*");

  @Override
  public Message deserialize(InputStream stream) throws Exception {
    Message message = new Message();
    try (ObjectInputStream in = new ObjectInputStream(stream)) {
      in.setObjectInputFilter(FILTER);
      message.readExternal(in);
    }
    return message;
  }

  @Override
  public void serialize(Message message, OutputStream stream) throws Exception {
    try (ObjectOutputStream out = new ObjectOutputStream(stream)) {
      message.writeExternal(out);
      out.flush();
    }
  }
}
