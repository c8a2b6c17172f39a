package io.mproxy.protocol.cassandra.codec;

/** The message opcodes of protocol v4 and v5 (there is no 0x04). */
public final class CqlOpcode {

  public static final int ERROR = 0x00;
  public static final int STARTUP = 0x01;
  public static final int READY = 0x02;
  public static final int AUTHENTICATE = 0x03;
  public static final int OPTIONS = 0x05;
  public static final int SUPPORTED = 0x06;
  public static final int QUERY = 0x07;
  public static final int RESULT = 0x08;
  public static final int PREPARE = 0x09;
  public static final int EXECUTE = 0x0A;
  public static final int REGISTER = 0x0B;
  public static final int EVENT = 0x0C;
  public static final int BATCH = 0x0D;
  public static final int AUTH_CHALLENGE = 0x0E;
  public static final int AUTH_RESPONSE = 0x0F;
  public static final int AUTH_SUCCESS = 0x10;

  private static final String[] NAMES = {
      "ERROR", "STARTUP", "READY", "AUTHENTICATE", null, "OPTIONS", "SUPPORTED", "QUERY", "RESULT",
      "PREPARE", "EXECUTE", "REGISTER", "EVENT", "BATCH", "AUTH_CHALLENGE", "AUTH_RESPONSE", "AUTH_SUCCESS"};

  private CqlOpcode() {
  }

  /** Whether a client may send this opcode. */
  public static boolean isRequest(int opcode) {
    return switch (opcode) {
      case STARTUP, OPTIONS, QUERY, PREPARE, EXECUTE, REGISTER, BATCH, AUTH_RESPONSE -> true;
      default -> false;
    };
  }

  /** Whether a server may send this opcode. */
  public static boolean isResponse(int opcode) {
    return switch (opcode) {
      case ERROR, READY, AUTHENTICATE, SUPPORTED, RESULT, EVENT, AUTH_CHALLENGE, AUTH_SUCCESS -> true;
      default -> false;
    };
  }

  public static String name(int opcode) {
    String n = opcode >= 0 && opcode < NAMES.length ? NAMES[opcode] : null;
    return n != null ? n : "0x" + Integer.toHexString(opcode);
  }
}
