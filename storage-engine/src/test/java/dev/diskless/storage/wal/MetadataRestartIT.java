package dev.diskless.storage.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.log.AppendResult;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.S3ObjectStore;
import dev.diskless.storage.testing.Logs;
import dev.diskless.storage.testing.RestartablePostgres;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.TestBatches;
import dev.diskless.storage.testing.history.History;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL stops in the middle of a write load and comes back on the same port. Commits in flight
 * at the stop have an unknown outcome, so failed appends may or may not be visible, but nothing
 * acknowledged is lost, offsets stay dense, and appends succeed again once the database is back.
 */
class MetadataRestartIT {

  @Test
  void aPostgresRestartLosesNothingAcknowledgedAndWritesResume() throws Exception {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore metadata = MetadataStore.open(pg.newDatabase("restart"));
        S3ObjectStore objects = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      int node =
          new BrokerRegistry(metadata)
              .register("w", "127.0.0.1", 1, Optional.empty(), Duration.ofMinutes(5))
              .join()
              .nodeId();
      TopicInfo topic = new TopicStore(metadata).create("restart", 3, Map.of()).join();
      PartitionOwnership ownership = new PartitionOwnership(metadata);
      StorageConfig storage =
          StorageConfig.defaults(S3ProxyFixture.get().newBucket(), metadata.config());
      History history = new History();
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicBoolean restarted = new AtomicBoolean(false);
      AtomicInteger okAfterRestart = new AtomicInteger();
      try (StorageEngine engine =
          new StorageEngine(storage, node, metadata, objects, metrics, () -> false)) {
        int[] epochs = new int[3];
        for (int p = 0; p < 3; p++) {
          TopicPartitionId tp = new TopicPartitionId(topic.topicId(), p);
          epochs[p] = ownership.acquire(tp, node).join().leaderEpoch();
          engine.logs().open(tp).join();
        }
        try (ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor()) {
          for (int t = 0; t < 4; t++) {
            int thread = t;
            writers.execute(
                () -> {
                  for (int i = 0; running.get(); i++) {
                    int p = (thread + i) % 3;
                    TopicPartitionId tp = new TopicPartitionId(topic.topicId(), p);
                    List<String> values = List.of("w" + thread + "-" + i);
                    long invoked = history.invoke();
                    try {
                      AppendResult r =
                          engine
                              .logs()
                              .append(
                                  tp,
                                  epochs[p],
                                  TestBatches.values(values.get(0)),
                                  AppendOptions.defaults())
                              .join();
                      history.ok(tp, r.baseOffset(), values, invoked);
                      if (restarted.get()) {
                        okAfterRestart.incrementAndGet();
                      }
                    } catch (RuntimeException e) {
                      assertThat(((StorageException) StorageException.unwrap(e)).retriable())
                          .isTrue();
                      history.fail(tp, values);
                      sleep(20);
                    }
                  }
                });
          }
          sleep(1500);
          pg.stop();
          // Longer than the store runs work again on fresh connections (3 s): some appends fail.
          sleep(4500);
          pg.start();
          restarted.set(true);
          long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
          while (okAfterRestart.get() < 50 && System.nanoTime() < deadline) {
            sleep(50);
          }
          running.set(false);
        }
        for (int p = 0; p < 3; p++) {
          TopicPartitionId tp = new TopicPartitionId(topic.topicId(), p);
          history.finalRead(
              tp, Logs.readAll(engine, tp), ownership.describe(tp).join().highWatermark());
        }
      }
      History.Report report = history.check(false);
      System.out.println(
          "postgres restart: " + report + " ok after restart=" + okAfterRestart.get());
      assertThat(report.anomalies()).isEmpty();
      assertThat(report.failed()).isPositive();
      assertThat(okAfterRestart.get()).isGreaterThanOrEqualTo(50);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
