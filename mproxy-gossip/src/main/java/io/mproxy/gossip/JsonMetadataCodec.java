package io.mproxy.gossip;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scalecube.cluster.metadata.MetadataCodec;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Member metadata as a flat JSON object of strings instead of Java serialization; anything else
 * (or anything over {@link #MAX_BYTES}) reads as no metadata.
 */
final class JsonMetadataCodec implements MetadataCodec {

  static final int MAX_BYTES = 4 * 1024;
  private static final TypeReference<Map<String, String>> TYPE = new TypeReference<>() { };

  private final ObjectMapper mapper = new ObjectMapper();

  @Override
  public Object deserialize(ByteBuffer buffer) {
    if (buffer == null || !buffer.hasRemaining() || buffer.remaining() > MAX_BYTES) {
      return null;
    }
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    try {
      return mapper.readValue(bytes, TYPE);
    } catch (Exception e) {
      return null;
    }
  }

  @Override
  public ByteBuffer serialize(Object metadata) {
    if (metadata == null) {
      return ByteBuffer.allocate(0);
    }
    try {
      return ByteBuffer.wrap(mapper.writeValueAsBytes(metadata));
    } catch (Exception e) {
      throw new IllegalArgumentException("metadata is not JSON-serializable: " + metadata.getClass(), e);
    }
  }
}
