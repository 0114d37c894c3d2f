package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.testing.RestartablePostgres;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A broker session that goes silent inside a transaction — as one on a lost node does, whose
 * packets simply stop — loses its row locks after {@link
 * ServerSessionSettings#IDLE_IN_TRANSACTION_MS}, so the other brokers' updates of those rows (a
 * failover's acquire) go through instead of waiting for the server's two-hour TCP keepalive.
 */
class ServerSessionSettingsIT {

  @Test
  void aSessionSilentInsideATransactionReleasesItsLocks() throws Exception {
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore metadata = MetadataStore.open(pg.newDatabase("silent"));
        MetadataStore lease = metadata.dedicated("lease", Duration.ofSeconds(30))) {
      metadata.inTransaction(
          c -> {
            c.createStatement().execute("CREATE TABLE held (id INT PRIMARY KEY, v INT)");
            c.createStatement().execute("INSERT INTO held VALUES (1, 0)");
            c.commit();
            return null;
          });
      for (MetadataStore store : new MetadataStore[] {metadata, lease}) {
        String timeout =
            store.inTransaction(
                c -> {
                  ResultSet r =
                      c.createStatement().executeQuery("SHOW idle_in_transaction_session_timeout");
                  r.next();
                  return r.getString(1);
                });
        assertThat(timeout).isEqualTo("8s");
      }

      // Locks the row, then goes silent (no statement, no commit) for longer than the timeout.
      CompletableFuture<Void> silent =
          metadata.async(
              c -> {
                c.createStatement().execute("UPDATE held SET v = 1 WHERE id = 1");
                try {
                  Thread.sleep(ServerSessionSettings.IDLE_IN_TRANSACTION_MS + 7_000);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                c.commit();
                return null;
              });
      Thread.sleep(500);
      long start = System.nanoTime();
      metadata
          .async(
              c -> {
                c.createStatement().execute("UPDATE held SET v = 2 WHERE id = 1");
                c.commit();
                return null;
              })
          .get(60, TimeUnit.SECONDS);
      long waitedMs = (System.nanoTime() - start) / 1_000_000;
      // Unblocked by the server dropping the silent session, well before that session woke up.
      assertThat(waitedMs).isLessThan(ServerSessionSettings.IDLE_IN_TRANSACTION_MS + 5_000);
      assertThat(silent).failsWithin(Duration.ofSeconds(30));
      int v =
          metadata.inTransaction(
              c -> {
                ResultSet r = c.createStatement().executeQuery("SELECT v FROM held WHERE id = 1");
                r.next();
                return r.getInt(1);
              });
      assertThat(v).isEqualTo(2);
    }
  }
}
