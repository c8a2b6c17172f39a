package io.mproxy.protocol.mongo.codec;

/** The wire protocol's operation codes the proxy knows by name. */
public final class OpCode {

  /** Reply to an OP_QUERY (legacy handshake only). */
  public static final int OP_REPLY = 1;
  public static final int OP_UPDATE = 2001;
  public static final int OP_INSERT = 2002;
  /** Legacy query; the proxy accepts it only for the {@code isMaster}/{@code hello} handshake. */
  public static final int OP_QUERY = 2004;
  public static final int OP_GET_MORE = 2005;
  public static final int OP_DELETE = 2006;
  public static final int OP_KILL_CURSORS = 2007;
  /** Compressed wrapper: never negotiated by the proxy, so never valid from a client. */
  public static final int OP_COMPRESSED = 2012;
  /** Every command since MongoDB 3.6. */
  public static final int OP_MSG = 2013;

  private OpCode() {
  }

  public static String name(int code) {
    switch (code) {
      case OP_REPLY: return "OP_REPLY";
      case OP_UPDATE: return "OP_UPDATE";
      case OP_INSERT: return "OP_INSERT";
      case OP_QUERY: return "OP_QUERY";
      case OP_GET_MORE: return "OP_GET_MORE";
      case OP_DELETE: return "OP_DELETE";
      case OP_KILL_CURSORS: return "OP_KILL_CURSORS";
      case OP_COMPRESSED: return "OP_COMPRESSED";
      case OP_MSG: return "OP_MSG";
      default: return "opCode " + code;
    }
  }
}
