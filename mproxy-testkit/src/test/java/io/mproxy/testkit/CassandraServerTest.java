package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CassandraServerTest {

    @Test
    void startsOnceAndChecksPasswords() throws Exception {
        CassandraServer node = CassandraServer.shared();
        System.out.printf("cassandra node up in %d ms, RSS %d KiB%n", node.startMillis(), node.rssKib());
        assertEquals(node, CassandraServer.shared(), "one node per JVM");
        assertNull(CqlProbe.login(node.host(), node.port(), CassandraServer.SUPERUSER,
                CassandraServer.SUPERUSER_PASSWORD, Duration.ofSeconds(10)), node.logTail());
        String refused = CqlProbe.login(node.host(), node.port(), CassandraServer.SUPERUSER, "wrong",
                Duration.ofSeconds(10));
        assertNotNull(refused, "a wrong password must be refused");
        assertTrue(refused.startsWith("ERROR 0x100"), refused);
    }
}
