package io.mproxy.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits PostgreSQL wire bytes into messages. On the client side it starts in the start-up phase
 * (length-prefixed packets without a type byte, emitted as {@link StartupPacket}) until the
 * session calls {@link #typed()}; typed messages are emitted as retained slices holding the whole
 * message (type byte, length and body), so they can be forwarded untouched.
 *
 * <p>A length below 4 or above the limit, or an unknown start-up code, emits one
 * {@link PgDecodeError} and discards all further input: the session answers with an
 * ErrorResponse and closes. Oversized messages are refused from their header, before any of the
 * body is buffered.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {

  /** PostgreSQL's own limit for a start-up packet. */
  public static final int MAX_STARTUP_BYTES = 10_000;

  private enum Phase { STARTUP, SSL_ANSWER, TYPED, FAILED }

  private final int maxMessageBytes;
  private Phase phase;

  private PgFrameDecoder(Phase phase, int maxMessageBytes) {
    this.phase = phase;
    this.maxMessageBytes = maxMessageBytes;
  }

  /** For client connections: start-up packets first. */
  public static PgFrameDecoder forClient(int maxMessageBytes) {
    return new PgFrameDecoder(Phase.STARTUP, maxMessageBytes);
  }

  /** For backend connections: typed messages only. */
  public static PgFrameDecoder forBackend(int maxMessageBytes) {
    return new PgFrameDecoder(Phase.TYPED, maxMessageBytes);
  }

  /** After the start-up packet: every further message has a type byte. */
  public void typed() {
    if (phase != Phase.FAILED) {
      phase = Phase.TYPED;
    }
  }

  /** The next byte is the one-byte answer to an SSLRequest, emitted as a {@link SslAnswer}. */
  public void expectSslAnswer() {
    phase = Phase.SSL_ANSWER;
  }

  /** The server's answer to SSLRequest: {@code 'S'} or {@code 'N'} (anything else is an error). */
  public record SslAnswer(byte value) {
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    switch (phase) {
      case STARTUP -> decodeStartup(in, out);
      case SSL_ANSWER -> {
        if (in.isReadable()) {
          phase = Phase.TYPED;
          out.add(new SslAnswer(in.readByte()));
        }
      }
      case TYPED -> decodeTyped(in, out);
      case FAILED -> in.skipBytes(in.readableBytes());
      default -> throw new IllegalStateException(phase.name());
    }
  }

  private void decodeStartup(ByteBuf in, List<Object> out) {
    if (in.readableBytes() < 4) {
      return;
    }
    int start = in.readerIndex();
    int length = in.getInt(start);
    if (length < 8 || length > MAX_STARTUP_BYTES) {
      fail(in, out, "invalid length of startup packet: " + length);
      return;
    }
    if (in.readableBytes() < 8) {
      return;
    }
    int code = in.getInt(start + 4);
    if (code != StartupPacket.PROTOCOL_3_0 && code != StartupPacket.SSL_REQUEST
        && code != StartupPacket.GSSENC_REQUEST && code != StartupPacket.CANCEL_REQUEST) {
      fail(in, out, "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xFFFF)
          + ": server supports 3.0");
      return;
    }
    if (in.readableBytes() < length) {
      return;
    }
    in.skipBytes(8);
    out.add(new StartupPacket(code, in.readRetainedSlice(length - 8)));
    // Exactly one start-up packet is read per phase: the session decides what comes next
    // (typed messages, a TLS handshake, or another start-up packet after SSL/GSS refusal).
  }

  private void decodeTyped(ByteBuf in, List<Object> out) {
    while (in.readableBytes() >= 5) {
      int start = in.readerIndex();
      int length = in.getInt(start + 1);
      if (length < 4) {
        fail(in, out, "invalid message length " + length + " for message type '"
            + printable(in.getByte(start)) + "'");
        return;
      }
      if (length > maxMessageBytes - 1) {
        fail(in, out, "message of type '" + printable(in.getByte(start)) + "' is " + (length + 1)
            + " bytes, over the limit of " + maxMessageBytes);
        return;
      }
      if (in.readableBytes() < length + 1) {
        return;
      }
      out.add(in.readRetainedSlice(length + 1));
    }
  }

  private void fail(ByteBuf in, List<Object> out, String message) {
    phase = Phase.FAILED;
    in.skipBytes(in.readableBytes());
    out.add(new PgDecodeError(message));
  }

  private static String printable(byte b) {
    return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
  }
}
