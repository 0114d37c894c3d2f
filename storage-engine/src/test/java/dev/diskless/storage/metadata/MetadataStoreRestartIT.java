package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.testing.RestartablePostgres;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Pooled connections are lent without a round trip to check them first; after PostgreSQL restarts,
 * every one the pool kept is closed on the server side. Work that meets such a connection before
 * its commit runs again on another and succeeds, and work failing for any other reason runs once.
 */
class MetadataStoreRestartIT {

  @Test
  void workMeetingConnectionsClosedByARestartRunsAgainAndSucceeds() throws Exception {
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore store = MetadataStore.open(pg.newDatabase("lent"))) {
      // Fill the pool: eight connections in use at once, each kept afterwards.
      List<CompletableFuture<Integer>> busy = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        busy.add(store.async(c -> selectAfterSleep(c)));
      }
      busy.forEach(CompletableFuture::join);

      pg.stop();
      pg.start();

      AtomicInteger runs = new AtomicInteger();
      for (int i = 0; i < 8; i++) {
        assertThat(
                store
                    .async(
                        c -> {
                          runs.incrementAndGet();
                          return selectAfterSleep(c);
                        })
                    .join())
            .isEqualTo(1);
      }
      // Some ran twice or more: they met closed connections first.
      assertThat(runs.get()).isGreaterThan(8);
    }
  }

  @Test
  void workFailingOnItsOwnRunsOnce() throws Exception {
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore store = MetadataStore.open(pg.newDatabase("once"))) {
      AtomicInteger runs = new AtomicInteger();
      assertThatThrownBy(
              () ->
                  store
                      .async(
                          c -> {
                            runs.incrementAndGet();
                            return c.createStatement().executeQuery("SELECT * FROM missing");
                          })
                      .join())
          .hasCauseInstanceOf(StorageException.class)
          .hasMessageContaining("missing");
      assertThat(runs.get()).isEqualTo(1);
    }
  }

  private static int selectAfterSleep(java.sql.Connection c) throws java.sql.SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("SELECT 1 FROM pg_sleep(0.05)")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
