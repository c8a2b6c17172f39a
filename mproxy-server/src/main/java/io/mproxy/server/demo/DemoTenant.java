package io.mproxy.server.demo;

import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * One tenant of the demo's workload: who it logs in as (which decides its resource group), how
 * many clients it runs, what they ask and how fast.
 *
 * @param name shown in the table
 * @param role the one-word story: what kind of traffic this is
 * @param user the PostgreSQL user its clients log in to mproxy as
 * @param group the resource group the demo config maps {@code user} to
 * @param clients concurrent connections, one thread each
 * @param thinkMillis pause after each answered query (0: flood)
 * @param backoffMillis pause after a refusal before asking again
 * @param query the next statement, from the client's own random stream
 */
public record DemoTenant(String name, String role, String user, String group, int clients, long thinkMillis,
    long backoffMillis, Function<SplittableRandom, String> query) {

  /** The three tenants of {@code mproxy demo}. */
  public static DemoTenant[] standard() {
    return new DemoTenant[] {
        new DemoTenant("checkout", "HIGH interactive", "checkout", "interactive", 2, 5, 50,
            r -> "SELECT name, balance FROM accounts WHERE id = " + (1 + r.nextInt(DemoBackend.ACCOUNTS))),
        new DemoTenant("reports", "LOW batch flood", "reports", "batch", 6, 0, 5,
            r -> "SELECT region, count(*), sum(balance), max(name) FROM accounts WHERE balance > "
                + r.nextInt(1000) + " GROUP BY region"),
        new DemoTenant("adhoc", "runaway query", "adhoc", "adhoc", 1, 0, 100,
            r -> "SELECT count(*) FROM accounts a JOIN accounts b ON a.region = b.region"
                + " WHERE a.id < " + (120 + r.nextInt(40)) + " AND b.balance > a.balance"),
    };
  }
}
