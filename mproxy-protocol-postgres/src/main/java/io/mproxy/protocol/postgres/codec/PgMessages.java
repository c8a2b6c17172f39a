package io.mproxy.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Builders of the messages the proxy says itself, on either side: to clients (authentication,
 * parameters, errors, ReadyForQuery) and to backends (start-up, passwords, queries, cancel).
 * Each returns a new buffer the caller writes (and so releases).
 */
public final class PgMessages {

  // Backend (server -> client) message types.
  public static final byte AUTHENTICATION = 'R';
  public static final byte PARAMETER_STATUS = 'S';
  public static final byte BACKEND_KEY_DATA = 'K';
  public static final byte READY_FOR_QUERY = 'Z';
  public static final byte ERROR_RESPONSE = 'E';
  public static final byte NOTICE_RESPONSE = 'N';
  public static final byte NOTIFICATION_RESPONSE = 'A';
  public static final byte PARSE_COMPLETE = '1';
  public static final byte BIND_COMPLETE = '2';
  public static final byte CLOSE_COMPLETE = '3';
  public static final byte COMMAND_COMPLETE = 'C';
  public static final byte DATA_ROW = 'D';
  public static final byte ROW_DESCRIPTION = 'T';
  public static final byte EMPTY_QUERY = 'I';
  public static final byte COPY_IN_RESPONSE = 'G';
  public static final byte COPY_OUT_RESPONSE = 'H';
  public static final byte COPY_BOTH_RESPONSE = 'W';

  // Frontend (client -> server) message types.
  public static final byte QUERY = 'Q';
  public static final byte PARSE = 'P';
  public static final byte BIND = 'B';
  public static final byte DESCRIBE = 'D';
  public static final byte EXECUTE = 'E';
  public static final byte CLOSE = 'C';
  public static final byte SYNC = 'S';
  public static final byte FLUSH = 'H';
  public static final byte TERMINATE = 'X';
  public static final byte PASSWORD = 'p';
  public static final byte COPY_DATA = 'd';
  public static final byte COPY_DONE = 'c';
  public static final byte COPY_FAIL = 'f';
  public static final byte FUNCTION_CALL = 'F';

  // Authentication request codes.
  public static final int AUTH_OK = 0;
  public static final int AUTH_CLEARTEXT = 3;
  public static final int AUTH_MD5 = 5;
  public static final int AUTH_SASL = 10;
  public static final int AUTH_SASL_CONTINUE = 11;
  public static final int AUTH_SASL_FINAL = 12;

  private PgMessages() {
  }

  // ---------------------------------------------------------------- to clients

  public static ByteBuf authentication(ByteBufAllocator alloc, int code) {
    ByteBuf b = alloc.buffer(9);
    b.writeByte(AUTHENTICATION).writeInt(8).writeInt(code);
    return b;
  }

  public static ByteBuf authenticationMd5(ByteBufAllocator alloc, byte[] salt) {
    ByteBuf b = alloc.buffer(13);
    b.writeByte(AUTHENTICATION).writeInt(12).writeInt(AUTH_MD5).writeBytes(salt, 0, 4);
    return b;
  }

  /** AuthenticationSASL offering the given mechanisms. */
  public static ByteBuf authenticationSasl(ByteBufAllocator alloc, String... mechanisms) {
    ByteBuf b = alloc.buffer();
    int start = begin(b, AUTHENTICATION);
    b.writeInt(AUTH_SASL);
    for (String m : mechanisms) {
      cstring(b, m);
    }
    b.writeByte(0);
    return end(b, start);
  }

  /** AuthenticationSASLContinue (11) or AuthenticationSASLFinal (12) with its data. */
  public static ByteBuf authenticationSaslData(ByteBufAllocator alloc, int code, String data) {
    byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
    ByteBuf b = alloc.buffer(9 + bytes.length);
    b.writeByte(AUTHENTICATION).writeInt(8 + bytes.length).writeInt(code).writeBytes(bytes);
    return b;
  }

  public static ByteBuf parameterStatus(ByteBufAllocator alloc, String name, String value) {
    ByteBuf b = alloc.buffer();
    int start = begin(b, PARAMETER_STATUS);
    cstring(b, name);
    cstring(b, value);
    return end(b, start);
  }

  public static void parameterStatuses(ByteBuf out, Map<String, String> params) {
    for (Map.Entry<String, String> e : params.entrySet()) {
      int start = begin(out, PARAMETER_STATUS);
      cstring(out, e.getKey());
      cstring(out, e.getValue());
      end(out, start);
    }
  }

  public static ByteBuf backendKeyData(ByteBufAllocator alloc, int pid, int secret) {
    ByteBuf b = alloc.buffer(13);
    b.writeByte(BACKEND_KEY_DATA).writeInt(12).writeInt(pid).writeInt(secret);
    return b;
  }

  /** ReadyForQuery with status {@code 'I'} (idle), {@code 'T'} (in a transaction) or {@code 'E'}. */
  public static ByteBuf readyForQuery(ByteBufAllocator alloc, byte status) {
    ByteBuf b = alloc.buffer(6);
    b.writeByte(READY_FOR_QUERY).writeInt(5).writeByte(status);
    return b;
  }

  /**
   * An ErrorResponse (or NoticeResponse with {@code type='N'}) with severity, SQLSTATE and
   * message, as every PostgreSQL client knows how to show.
   */
  public static ByteBuf error(ByteBufAllocator alloc, String severity, String sqlState, String message) {
    return notice(alloc, ERROR_RESPONSE, severity, sqlState, message);
  }

  public static ByteBuf notice(ByteBufAllocator alloc, byte type, String severity, String sqlState,
      String message) {
    ByteBuf b = alloc.buffer();
    int start = begin(b, type);
    b.writeByte('S');
    cstring(b, severity);
    b.writeByte('V');
    cstring(b, severity);
    b.writeByte('C');
    cstring(b, sqlState);
    b.writeByte('M');
    cstring(b, message);
    b.writeByte(0);
    return end(b, start);
  }

  public static ByteBuf single(ByteBufAllocator alloc, byte type) {
    ByteBuf b = alloc.buffer(5);
    b.writeByte(type).writeInt(4);
    return b;
  }

  // ---------------------------------------------------------------- to backends

  public static ByteBuf sslRequest(ByteBufAllocator alloc) {
    ByteBuf b = alloc.buffer(8);
    b.writeInt(8).writeInt(StartupPacket.SSL_REQUEST);
    return b;
  }

  public static ByteBuf cancelRequest(ByteBufAllocator alloc, int pid, int secret) {
    ByteBuf b = alloc.buffer(16);
    b.writeInt(16).writeInt(StartupPacket.CANCEL_REQUEST).writeInt(pid).writeInt(secret);
    return b;
  }

  public static ByteBuf startup(ByteBufAllocator alloc, Map<String, String> params) {
    ByteBuf b = alloc.buffer();
    int start = b.writerIndex();
    b.writeInt(0).writeInt(StartupPacket.PROTOCOL_3_0);
    for (Map.Entry<String, String> e : params.entrySet()) {
      cstring(b, e.getKey());
      cstring(b, e.getValue());
    }
    b.writeByte(0);
    b.setInt(start, b.writerIndex() - start);
    return b;
  }

  /** PasswordMessage: a cleartext or md5 password. */
  public static ByteBuf password(ByteBufAllocator alloc, String password) {
    ByteBuf b = alloc.buffer();
    int start = begin(b, PASSWORD);
    cstring(b, password);
    return end(b, start);
  }

  public static ByteBuf saslInitialResponse(ByteBufAllocator alloc, String mechanism, String data) {
    byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
    ByteBuf b = alloc.buffer();
    int start = begin(b, PASSWORD);
    cstring(b, mechanism);
    b.writeInt(bytes.length).writeBytes(bytes);
    return end(b, start);
  }

  public static ByteBuf saslResponse(ByteBufAllocator alloc, String data) {
    byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
    ByteBuf b = alloc.buffer(5 + bytes.length);
    b.writeByte(PASSWORD).writeInt(4 + bytes.length).writeBytes(bytes);
    return b;
  }

  public static ByteBuf query(ByteBufAllocator alloc, String sql) {
    ByteBuf b = alloc.buffer();
    int start = begin(b, QUERY);
    cstring(b, sql);
    return end(b, start);
  }

  /** Parse of a named statement with its parameter type oids (raw, as the client sent them). */
  public static void parse(ByteBuf out, String name, String sql, ByteBuf paramTypes) {
    int start = begin(out, PARSE);
    cstring(out, name);
    cstring(out, sql);
    out.writeBytes(paramTypes, paramTypes.readerIndex(), paramTypes.readableBytes());
    end(out, start);
  }

  /** Close of a prepared statement ({@code 'S'}) or portal ({@code 'P'}). */
  public static void close(ByteBuf out, byte what, String name) {
    int start = begin(out, CLOSE);
    out.writeByte(what);
    cstring(out, name);
    end(out, start);
  }

  // ---------------------------------------------------------------- helpers

  /** Writes a NUL-terminated UTF-8 string. */
  public static void cstring(ByteBuf b, String s) {
    ByteBufUtil.writeUtf8(b, s);
    b.writeByte(0);
  }

  /** Reads a NUL-terminated UTF-8 string at the reader index and moves past it. */
  public static String readCString(ByteBuf b) {
    int end = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
    if (end < 0) {
      throw new IllegalArgumentException("string without terminator");
    }
    String s = b.toString(b.readerIndex(), end - b.readerIndex(), StandardCharsets.UTF_8);
    b.readerIndex(end + 1);
    return s;
  }

  private static int begin(ByteBuf b, byte type) {
    b.writeByte(type);
    int start = b.writerIndex();
    b.writeInt(0);
    return start;
  }

  private static ByteBuf end(ByteBuf b, int start) {
    b.setInt(start, b.writerIndex() - start);
    return b;
  }
}
