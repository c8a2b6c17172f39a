package io.mproxy.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShareReportCodecTest {

  private final ShareReportCodec codec = new ShareReportCodec();

  @Test
  void roundTrips() {
    ShareReport r = new ShareReport("127.0.0.1:7946/ab12cd34", 42, Map.of(
        "batch", new ShareReport.GroupFigures(812.5, 1950.0),
        "default", new ShareReport.GroupFigures(0, 1e12)));
    String text = codec.encode(r);
    assertEquals(r, codec.decode(text).orElseThrow());
  }

  @Test
  void anythingButAWellFormedReportDecodesToEmpty() {
    String[] bad = {
        "", "null", "[]", "{", "{\"v\":2,\"node\":\"a\",\"seq\":1,\"groups\":{}}",
        "{\"v\":1,\"seq\":1,\"groups\":{}}",
        "{\"v\":1,\"node\":\"\",\"seq\":1,\"groups\":{}}",
        "{\"v\":1,\"node\":\"a\",\"seq\":\"x\",\"groups\":{}}",
        "{\"v\":1,\"node\":\"a\",\"seq\":1,\"groups\":[]}",
        "{\"v\":1,\"node\":\"a\",\"seq\":1,\"groups\":{\"g\":{\"d\":-1,\"s\":1}}}",
        "{\"v\":1,\"node\":\"a\",\"seq\":1,\"groups\":{\"g\":{\"d\":1}}}",
        "{\"v\":1,\"node\":\"a\",\"seq\":1,\"groups\":{\"g\":{\"d\":\"1\",\"s\":1}}}",
        "{\"v\":1,\"node\":\"a\",\"seq\":1,\"groups\":{\"g\":7}}",
    };
    for (String s : bad) {
      assertTrue(codec.decode(s).isEmpty(), s);
    }
    assertTrue(codec.decode(42).isEmpty(), "not a string");
    assertTrue(codec.decode(null).isEmpty());
  }

  @Test
  void oversizedReportsAndTooManyGroupsAreRefused() {
    assertTrue(codec.decode(" ".repeat(ShareReportCodec.MAX_CHARS + 1)).isEmpty());
    Map<String, ShareReport.GroupFigures> many = new HashMap<>();
    for (int i = 0; i <= ShareReportCodec.MAX_GROUPS; i++) {
      many.put("g" + i, new ShareReport.GroupFigures(1, 1));
    }
    String text = codec.encode(new ShareReport("a", 1, many));
    assertTrue(text.length() <= ShareReportCodec.MAX_CHARS, "fits the size bound, fails the group bound");
    assertTrue(codec.decode(text).isEmpty());
  }
}
