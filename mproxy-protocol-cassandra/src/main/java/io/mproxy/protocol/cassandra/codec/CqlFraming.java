package io.mproxy.protocol.cassandra.codec;

import io.netty.channel.ChannelPipeline;

/**
 * Switches a connection's codec pair once STARTUP has been answered: from then on frames are
 * LZ4-compressed when negotiated, and on v5 both directions use segments (compressed ones with
 * LZ4). Client and backend connections make the same switch, each with what its side negotiated.
 */
public final class CqlFraming {

  private CqlFraming() {
  }

  /** Applies what STARTUP negotiated to {@code pipeline}'s decoder and encoder. */
  public static void afterStartup(ChannelPipeline pipeline, int version, boolean lz4) {
    CqlFrameDecoder decoder = pipeline.get(CqlFrameDecoder.class);
    CqlFrameEncoder encoder = pipeline.get(CqlFrameEncoder.class);
    decoder.compression(lz4);
    encoder.compression(lz4);
    if (version >= 5) {
      decoder.switchToSegments();
      encoder.switchToSegments();
    }
  }
}
