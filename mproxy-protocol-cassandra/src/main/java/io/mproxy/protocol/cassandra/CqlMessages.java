package io.mproxy.protocol.cassandra;

import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The frames the proxy writes itself, and the error codes it uses (spec section 9). */
final class CqlMessages {

  static final int SERVER_ERROR = 0x0000;
  static final int PROTOCOL_ERROR = 0x000A;
  static final int BAD_CREDENTIALS = 0x0100;
  static final int OVERLOADED = 0x1001;
  static final int WRITE_TIMEOUT = 0x1100;
  static final int READ_TIMEOUT = 0x1200;
  static final int INVALID = 0x2200;
  static final int UNPREPARED = 0x2500;

  static final String PASSWORD_AUTHENTICATOR = "org.apache.cassandra.auth.PasswordAuthenticator";
  static final String CQL_VERSION = "3.0.0";
  /** The one compression mproxy speaks, as STARTUP and SUPPORTED spell it. */
  static final String LZ4 = "lz4";

  static final int RESULT_VOID = 1;
  static final int RESULT_ROWS = 2;
  static final int RESULT_SET_KEYSPACE = 3;
  static final int RESULT_PREPARED = 4;

  private CqlMessages() {
  }

  static CqlFrame response(int version, int stream, int opcode, ByteBuf body) {
    return new CqlFrame(version, true, 0, stream, opcode, body);
  }

  static CqlFrame request(int version, int stream, int opcode, ByteBuf body) {
    return new CqlFrame(version, false, 0, stream, opcode, body);
  }

  static CqlFrame error(ByteBufAllocator alloc, int version, int stream, int code, String message) {
    ByteBuf body = alloc.buffer(6 + message.length());
    body.writeInt(code);
    CqlWire.writeString(body, message);
    return response(version, stream, CqlOpcode.ERROR, body);
  }

  static CqlFrame ready(int version, int stream) {
    return response(version, stream, CqlOpcode.READY, Unpooled.EMPTY_BUFFER);
  }

  static CqlFrame authenticate(ByteBufAllocator alloc, int version, int stream) {
    return response(version, stream, CqlOpcode.AUTHENTICATE,
        CqlWire.writeString(alloc.buffer(), PASSWORD_AUTHENTICATOR));
  }

  /** AUTH_SUCCESS with a null token, as PasswordAuthenticator sends it. */
  static CqlFrame authSuccess(ByteBufAllocator alloc, int version, int stream) {
    return response(version, stream, CqlOpcode.AUTH_SUCCESS, alloc.buffer(4).writeInt(-1));
  }

  /** SUPPORTED: the versions the proxy speaks, lz4 when offered, the backend's CQL version. */
  static CqlFrame supported(ByteBufAllocator alloc, int version, int stream, String cqlVersion, boolean lz4) {
    Map<String, List<String>> options = new LinkedHashMap<>();
    options.put("PROTOCOL_VERSIONS", List.of("4/v4", "5/v5"));
    options.put("COMPRESSION", lz4 ? List.of(LZ4) : List.of());
    options.put("CQL_VERSION", List.of(cqlVersion));
    return response(version, stream, CqlOpcode.SUPPORTED, CqlWire.writeStringMultimap(alloc.buffer(), options));
  }

  /** STARTUP with the CQL version and, when {@code lz4}, {@code COMPRESSION: lz4}. */
  static CqlFrame startup(ByteBufAllocator alloc, int version, int stream, boolean lz4) {
    ByteBuf body = alloc.buffer();
    body.writeShort(lz4 ? 2 : 1);
    CqlWire.writeString(body, "CQL_VERSION");
    CqlWire.writeString(body, CQL_VERSION);
    if (lz4) {
      CqlWire.writeString(body, "COMPRESSION");
      CqlWire.writeString(body, LZ4);
    }
    return request(version, stream, CqlOpcode.STARTUP, body);
  }

  /** AUTH_RESPONSE with a SASL PLAIN token: NUL user NUL password. */
  static CqlFrame plainAuthResponse(ByteBufAllocator alloc, int version, int stream, String user, String password) {
    byte[] u = user.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] p = password.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuf body = alloc.buffer(6 + u.length + p.length);
    body.writeInt(2 + u.length + p.length).writeByte(0).writeBytes(u).writeByte(0).writeBytes(p);
    return request(version, stream, CqlOpcode.AUTH_RESPONSE, body);
  }

  /** A QUERY with consistency ONE and no values, in the layout of {@code version}. */
  static CqlFrame query(ByteBufAllocator alloc, int version, int stream, String cql) {
    ByteBuf body = alloc.buffer();
    CqlWire.writeLongString(body, cql);
    body.writeShort(0x0001);
    if (version >= 5) {
      body.writeInt(0);
    } else {
      body.writeByte(0);
    }
    return request(version, stream, CqlOpcode.QUERY, body);
  }

  static CqlFrame options(int version, int stream) {
    return request(version, stream, CqlOpcode.OPTIONS, Unpooled.EMPTY_BUFFER);
  }

  /** An ERROR frame's code, or -1 when the body is too short. */
  static int errorCode(CqlFrame frame) {
    ByteBuf b = frame.body();
    int at = b.readerIndex() + responsePrefix(frame);
    return b.writerIndex() - at >= 4 ? b.getInt(at) : -1;
  }

  /** An ERROR frame's message, or the empty string. */
  static String errorMessage(CqlFrame frame) {
    ByteBuf b = frame.body().duplicate();
    try {
      b.skipBytes(responsePrefix(frame) + 4);
      return CqlWire.readString(b);
    } catch (RuntimeException e) {
      return "";
    }
  }

  /**
   * Bytes before a response's message: tracing id, warnings and custom payload, by its flags.
   * Returns 0 when they cannot be skipped (the caller then reads from the start and fails).
   */
  static int responsePrefix(CqlFrame frame) {
    int flags = frame.flags();
    if ((flags & (CqlFrame.FLAG_TRACING | CqlFrame.FLAG_WARNING | CqlFrame.FLAG_CUSTOM_PAYLOAD)) == 0) {
      return 0;
    }
    ByteBuf b = frame.body().duplicate();
    int start = b.readerIndex();
    try {
      if ((flags & CqlFrame.FLAG_TRACING) != 0) {
        b.skipBytes(16);
      }
      if ((flags & CqlFrame.FLAG_WARNING) != 0) {
        CqlWire.readStringList(b);
      }
      if ((flags & CqlFrame.FLAG_CUSTOM_PAYLOAD) != 0) {
        CqlWire.skipBytesMap(b);
      }
      return b.readerIndex() - start;
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
