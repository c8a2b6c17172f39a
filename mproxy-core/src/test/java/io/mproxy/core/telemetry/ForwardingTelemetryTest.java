package io.mproxy.core.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A hook added to Telemetry but not forwarded would silently lose its metric behind every decorator. */
class ForwardingTelemetryTest {

  @Test
  void everyTelemetryMethodReachesTheDelegate() throws Exception {
    List<String> reached = new ArrayList<>();
    Telemetry recorder = (Telemetry) Proxy.newProxyInstance(Telemetry.class.getClassLoader(),
        new Class<?>[] {Telemetry.class}, (proxy, method, args) -> {
          reached.add(method.getName());
          return null;
        });
    Telemetry forwarding = new ForwardingTelemetry(recorder) { };
    for (Method m : Telemetry.class.getMethods()) {
      if (Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      assertEquals(ForwardingTelemetry.class,
          ForwardingTelemetry.class.getMethod(m.getName(), m.getParameterTypes()).getDeclaringClass(),
          "not forwarded: " + m);
      reached.clear();
      Object[] args = new Object[m.getParameterCount()];
      Class<?>[] types = m.getParameterTypes();
      for (int i = 0; i < args.length; i++) {
        args[i] = zero(types[i]);
      }
      m.invoke(forwarding, args);
      assertEquals(List.of(m.getName()), reached, "forwarded once: " + m);
    }
  }

  private static Object zero(Class<?> type) {
    if (type == boolean.class) {
      return Boolean.FALSE;
    }
    if (type == double.class) {
      return 0.0;
    }
    if (type == long.class) {
      return 0L;
    }
    if (type == int.class) {
      return 0;
    }
    return null;
  }
}
