package io.mproxy.protocol.mysql.codec;

/** Constants of the MySQL client/server protocol that the proxy uses. */
public final class Mysql {

  private Mysql() {
  }

  // capability flags
  public static final int CLIENT_LONG_PASSWORD = 1;
  public static final int CLIENT_FOUND_ROWS = 1 << 1;
  public static final int CLIENT_LONG_FLAG = 1 << 2;
  public static final int CLIENT_CONNECT_WITH_DB = 1 << 3;
  public static final int CLIENT_NO_SCHEMA = 1 << 4;
  public static final int CLIENT_COMPRESS = 1 << 5;
  public static final int CLIENT_ODBC = 1 << 6;
  public static final int CLIENT_LOCAL_FILES = 1 << 7;
  public static final int CLIENT_IGNORE_SPACE = 1 << 8;
  public static final int CLIENT_PROTOCOL_41 = 1 << 9;
  public static final int CLIENT_INTERACTIVE = 1 << 10;
  public static final int CLIENT_SSL = 1 << 11;
  public static final int CLIENT_TRANSACTIONS = 1 << 13;
  public static final int CLIENT_SECURE_CONNECTION = 1 << 15;
  public static final int CLIENT_MULTI_STATEMENTS = 1 << 16;
  public static final int CLIENT_MULTI_RESULTS = 1 << 17;
  public static final int CLIENT_PS_MULTI_RESULTS = 1 << 18;
  public static final int CLIENT_PLUGIN_AUTH = 1 << 19;
  public static final int CLIENT_CONNECT_ATTRS = 1 << 20;
  public static final int CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21;
  public static final int CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22;
  public static final int CLIENT_SESSION_TRACK = 1 << 23;
  public static final int CLIENT_DEPRECATE_EOF = 1 << 24;
  public static final int CLIENT_QUERY_ATTRIBUTES = 1 << 27;
  /**
   * Set by MySQL servers and clients, clear on MariaDB's: when clear, the last 4 bytes of the
   * greeting's and HandshakeResponse's reserved fields carry MariaDB's extended capabilities.
   */
  public static final int CLIENT_MYSQL = CLIENT_LONG_PASSWORD;

  // MariaDB extended capability flags (the 4 bytes in the reserved fields, bits 32.. of the whole)
  /**
   * MARIADB_CLIENT_CACHE_METADATA (MariaDB 10.6+): a result set's column count is followed by a
   * "metadata follows" byte, and COM_STMT_EXECUTE skips the column definitions (0) when the
   * statement's metadata is what the server last sent for it on this connection.
   */
  public static final int MARIADB_CLIENT_CACHE_METADATA = 1 << 4;

  // server status flags
  public static final int SERVER_STATUS_IN_TRANS = 1;
  public static final int SERVER_STATUS_AUTOCOMMIT = 1 << 1;
  public static final int SERVER_MORE_RESULTS_EXISTS = 1 << 3;
  public static final int SERVER_STATUS_CURSOR_EXISTS = 1 << 6;
  public static final int SERVER_STATUS_LAST_ROW_SENT = 1 << 7;
  public static final int SERVER_STATUS_IN_TRANS_READONLY = 1 << 13;

  // commands
  public static final int COM_QUIT = 0x01;
  public static final int COM_INIT_DB = 0x02;
  public static final int COM_QUERY = 0x03;
  public static final int COM_FIELD_LIST = 0x04;
  public static final int COM_STATISTICS = 0x09;
  public static final int COM_PROCESS_KILL = 0x0C;
  public static final int COM_PING = 0x0E;
  public static final int COM_CHANGE_USER = 0x11;
  public static final int COM_STMT_PREPARE = 0x16;
  public static final int COM_STMT_EXECUTE = 0x17;
  public static final int COM_STMT_SEND_LONG_DATA = 0x18;
  public static final int COM_STMT_CLOSE = 0x19;
  public static final int COM_STMT_RESET = 0x1A;
  public static final int COM_SET_OPTION = 0x1B;
  public static final int COM_STMT_FETCH = 0x1C;
  public static final int COM_RESET_CONNECTION = 0x1F;

  // packet headers
  public static final int OK = 0x00;
  public static final int EOF = 0xFE;
  public static final int ERR = 0xFF;
  public static final int LOCAL_INFILE = 0xFB;

  // error codes the proxy sends
  public static final int ER_CON_COUNT_ERROR = 1040;
  public static final int ER_ACCESS_DENIED_ERROR = 1045;
  public static final int ER_UNKNOWN_COM_ERROR = 1047;
  public static final int ER_NO_SUCH_THREAD = 1094;
  public static final int ER_UNKNOWN_ERROR = 1105;
  public static final int ER_NOT_SUPPORTED_AUTH_MODE = 1251;
  public static final int ER_TOO_MANY_USER_CONNECTIONS = 1203;
  public static final int ER_USER_LIMIT_REACHED = 1226;
  public static final int ER_UNKNOWN_STMT_HANDLER = 1243;
  public static final int ER_KILL_DENIED_ERROR = 1095;
  public static final int ER_QUERY_INTERRUPTED = 1317;
  public static final int ER_NOT_SUPPORTED_YET = 1235;
  public static final int ER_QUERY_TIMEOUT = 3024;
  public static final int ER_CLIENT_INTERACTION_TIMEOUT = 4031;

  /** The SQLSTATE MySQL pairs with each error code the proxy sends. */
  public static String sqlState(int code) {
    switch (code) {
      case ER_CON_COUNT_ERROR:
        return "08004";
      case ER_ACCESS_DENIED_ERROR:
        return "28000";
      case ER_UNKNOWN_COM_ERROR:
      case 1153:
      case 1156:
        return "08S01";
      case ER_USER_LIMIT_REACHED:
      case ER_TOO_MANY_USER_CONNECTIONS:
      case 1064:
      case 1461:
        return "42000";
      case ER_NOT_SUPPORTED_AUTH_MODE:
        return "08004";
      case ER_QUERY_INTERRUPTED:
        return "70100";
      case ER_NOT_SUPPORTED_YET:
        return "42000";
      default:
        return "HY000";
    }
  }
}
