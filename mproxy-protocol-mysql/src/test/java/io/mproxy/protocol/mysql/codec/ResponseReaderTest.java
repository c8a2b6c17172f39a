package io.mproxy.protocol.mysql.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Response shapes as servers send them, through the decoder and the reader. */
class ResponseReaderTest {

  private static final int MORE = Mysql.SERVER_MORE_RESULTS_EXISTS;
  private static final int AC = Mysql.SERVER_STATUS_AUTOCOMMIT;

  private static byte[] ok(int header, int status) {
    return new byte[] {(byte) header, 0, 0, (byte) status, (byte) (status >> 8), 0, 0};
  }

  private static byte[] eof(int status) {
    return new byte[] {(byte) 0xFE, 0, 0, (byte) status, (byte) (status >> 8)};
  }

  private static byte[] err(int code) {
    return new byte[] {(byte) 0xFF, (byte) code, (byte) (code >> 8), '#', 'H', 'Y', '0', '0', '0', 'x'};
  }

  private static final byte[] COLUMN = new byte[] {3, 'd', 'e', 'f', 0, 0, 0, 1, 'a', 0, 0x0c, 0x3f, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0};
  private static final byte[] ROW = new byte[] {1, '1'};

  /** Feeds the packets (seq 1..n) and returns, per packet, whether the reader said "last". */
  private static List<Boolean> feed(ResponseReader r, byte[]... payloads) {
    EmbeddedChannel ch = new EmbeddedChannel(new MysqlFrameDecoder(1 << 20));
    ByteBuf wire = Unpooled.buffer();
    int seq = 1;
    for (byte[] p : payloads) {
      wire.writeMediumLE(p.length).writeByte(seq++).writeBytes(p);
    }
    ch.writeInbound(wire);
    List<Boolean> out = new ArrayList<>();
    MysqlPacket p;
    while ((p = ch.readInbound()) != null) {
      try {
        out.add(r.accept(p));
      } finally {
        p.release();
      }
    }
    assertFalse(ch.finish());
    return out;
  }

  @Test
  void aResetReaderForgetsTheLastAnswer() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.PREPARE, false);
    assertEquals(List.of(true), feed(r, err(1146)));
    assertEquals(1146, r.errorCode());

    r.reset(ResponseReader.Shape.RESULTS, true);
    assertFalse(r.done());
    assertEquals(-1, r.errorCode());
    assertEquals(-1, r.status());
    assertEquals(ResponseReader.Shape.RESULTS, r.shape());
    // deprecate-EOF now: the row set ends with an OK-style 0xFE terminator, not after the columns
    assertEquals(List.of(false, false, false, true), feed(r, new byte[] {1}, COLUMN, ROW, ok(0xFE, AC)));
    assertEquals(AC, r.status());
    assertEquals(1, r.resultSets());
    assertEquals(-1, r.rowCount());
  }

  @Test
  void okEndsAQuery() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, false);
    assertEquals(List.of(true), feed(r, ok(0, AC | Mysql.SERVER_STATUS_IN_TRANS)));
    assertEquals(AC | Mysql.SERVER_STATUS_IN_TRANS, r.status());
    assertEquals(-1, r.errorCode());
  }

  @Test
  void classicResultSetEndsAtTheSecondEof() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, false);
    assertEquals(List.of(false, false, false, false, false, true),
        feed(r, new byte[] {1}, COLUMN, eof(AC), ROW, ROW, eof(AC)));
    assertEquals(1, r.resultSets());
  }

  @Test
  void deprecateEofResultSetEndsAtTheOkTerminator() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, true);
    assertEquals(List.of(false, false, false, true), feed(r, new byte[] {1}, COLUMN, ROW, ok(0xFE, AC)));
  }

  @Test
  void multipleResultsContinueWhileMoreResultsExists() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, false);
    List<Boolean> last = feed(r, new byte[] {1}, COLUMN, eof(AC), ROW, eof(AC | MORE),
        ok(0, AC | MORE), new byte[] {1}, COLUMN, eof(AC), eof(AC));
    assertEquals(List.of(false, false, false, false, false, false, false, false, false, true), last);
    assertEquals(3, r.resultSets());
  }

  @Test
  void errorInTheMiddleOfRowsEndsTheResponse() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, true);
    assertEquals(List.of(false, false, false, true), feed(r, new byte[] {1}, COLUMN, ROW, err(1317)));
    assertEquals(1317, r.errorCode());
  }

  @Test
  void prepareReadsParameterAndColumnDefinitions() {
    byte[] prepOk = new byte[] {0, 7, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0};
    ResponseReader classic = new ResponseReader(ResponseReader.Shape.PREPARE, false);
    assertEquals(List.of(false, false, false, false, false, true),
        feed(classic, prepOk, COLUMN, COLUMN, eof(AC), COLUMN, eof(AC)));
    assertEquals(7, classic.statementId());
    assertEquals(2, classic.prepareParams());
    assertEquals(1, classic.prepareColumns());
    ResponseReader modern = new ResponseReader(ResponseReader.Shape.PREPARE, true);
    assertEquals(List.of(false, false, false, true), feed(modern, prepOk, COLUMN, COLUMN, COLUMN));
    ResponseReader none = new ResponseReader(ResponseReader.Shape.PREPARE, false);
    assertEquals(List.of(true), feed(none, new byte[] {0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  }

  @Test
  void cursorExecuteEndsAfterTheColumnsAndFetchReadsRows() {
    ResponseReader exec = new ResponseReader(ResponseReader.Shape.RESULTS, false);
    assertEquals(List.of(false, false, true),
        feed(exec, new byte[] {1}, COLUMN, eof(AC | Mysql.SERVER_STATUS_CURSOR_EXISTS)));
    ResponseReader fetch = new ResponseReader(ResponseReader.Shape.ROWS, false);
    assertEquals(List.of(false, true), feed(fetch, new byte[] {0, 0, 1}, eof(AC | Mysql.SERVER_STATUS_LAST_ROW_SENT)));
  }

  @Test
  void singlePacketAnswersAndFieldLists() {
    ResponseReader ping = new ResponseReader(ResponseReader.Shape.SINGLE, true);
    assertEquals(List.of(true), feed(ping, ok(0, AC)));
    ResponseReader stats = new ResponseReader(ResponseReader.Shape.SINGLE, true);
    assertEquals(List.of(true), feed(stats, "Uptime: 5  Threads: 1".getBytes()));
    ResponseReader fields = new ResponseReader(ResponseReader.Shape.FIELD_LIST, false);
    assertEquals(List.of(false, false, true), feed(fields, COLUMN, COLUMN, eof(AC)));
  }

  @Test
  void bytesNoServerSendsAreATypedError() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, false);
    assertThrows(MysqlCodecException.class, () -> feed(r, new byte[] {1}, COLUMN, ROW));
    ResponseReader infile = new ResponseReader(ResponseReader.Shape.RESULTS, false);
    assertThrows(MysqlCodecException.class, () -> feed(infile, new byte[] {(byte) 0xFB, 'f'}));
    assertTrue(infile.localInfile());
  }

  @Test
  void underMetadataCachingACountWithoutMetadataGoesStraightToTheRows() {
    ResponseReader classic = new ResponseReader(ResponseReader.Shape.RESULTS, false, true).captureMetadata();
    // count 1, "metadata follows" 0: no column definitions, the EOF that closes them still comes
    assertEquals(List.of(false, false, false, true), feed(classic, new byte[] {1, 0}, eof(AC), ROW, eof(AC)));
    assertTrue(classic.metadataSkipped());
    assertEquals(null, classic.metadata());
    ResponseReader modern = new ResponseReader(ResponseReader.Shape.RESULTS, true, true).captureMetadata();
    assertEquals(List.of(false, false, true), feed(modern, new byte[] {1, 0}, ROW, ok(0xFE, AC)));
    assertTrue(modern.metadataSkipped());
  }

  @Test
  void underMetadataCachingSentColumnsAreCapturedAndCompareByContent() {
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, false, true).captureMetadata();
    assertEquals(List.of(false, false, false, false, true), feed(r, new byte[] {1, 1}, COLUMN, eof(AC), ROW, eof(AC)));
    assertFalse(r.metadataSkipped());
    assertEquals(1, r.metadata().columns());
    org.junit.jupiter.api.Assertions.assertArrayEquals(COLUMN, r.metadata().column(0));

    ResponseReader prepare = new ResponseReader(ResponseReader.Shape.PREPARE, true, true).captureMetadata();
    feed(prepare, new byte[] {0, 7, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}, COLUMN, COLUMN);
    assertEquals(r.metadata(), prepare.metadata());
    assertEquals(r.metadata().hashCode(), prepare.metadata().hashCode());

    ResponseReader none = new ResponseReader(ResponseReader.Shape.PREPARE, true, true).captureMetadata();
    feed(none, new byte[] {0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    assertEquals(ColumnMetadata.EMPTY, none.metadata());
    assertFalse(r.metadata().equals(none.metadata()));

    ByteBuf wire = Unpooled.buffer();
    r.metadata().writePackets(wire, 2);
    assertEquals(r.metadata().wireSize(), wire.readableBytes());
    assertEquals(COLUMN.length, wire.getUnsignedMediumLE(0));
    assertEquals(2, wire.getUnsignedByte(3));
  }

  @Test
  void withoutMetadataCachingTheSecondCountByteIsNotAFlag() {
    // a 2-byte count packet only under metadata caching has a flag; a reader without it ignores the byte
    ResponseReader r = new ResponseReader(ResponseReader.Shape.RESULTS, false, false);
    assertEquals(List.of(false, false, false, false, true), feed(r, new byte[] {1, 0}, COLUMN, eof(AC), ROW, eof(AC)));
    assertFalse(r.metadataSkipped());
  }
}
