package dev.diskless.storage.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.log.AppendResult;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.testing.Logs;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.StorageHarness;
import dev.diskless.storage.testing.TestBatches;
import dev.diskless.storage.testing.TestBatches.Read;
import dev.diskless.storage.testing.fault.Fault;
import dev.diskless.storage.testing.fault.FaultProxy;
import dev.diskless.storage.testing.history.History;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * Randomized S3 faults during concurrent appends and reads: 500/503, latency, resets, PUTs applied
 * whose response is lost, truncated GET bodies. Afterwards a cold reader checks invariants D1 and
 * D2 over the whole history.
 */
class WalFaultIT {

  @Test
  void randomS3FaultsNeverLoseDuplicateOrInventAppends() throws Exception {
    long seed = Long.getLong("fault.seed", System.nanoTime());
    Random random = new Random(seed);
    try (FaultProxy proxy = new FaultProxy(S3ProxyFixture.get().endpoint());
        StorageHarness h =
            StorageHarness.startVia(proxy.endpoint())
                .withObjectStore(
                    c ->
                        c.withRetries(
                            2, Duration.ofMillis(5), Duration.ofMillis(50), Duration.ofSeconds(2)))
                .withBlockCache(0)) {
      proxy.plan(
          (method, path) -> {
            double x;
            synchronized (random) {
              x = random.nextDouble();
            }
            if (x < 0.08) return new Fault.Status(503, "SlowDown");
            if (x < 0.12) return new Fault.Status(500, "InternalError");
            if (x < 0.16) return new Fault.Reset();
            if (x < 0.22 && method.equals("PUT")) return new Fault.DropResponse();
            if (x < 0.26) return new Fault.Delay(Duration.ofMillis(300));
            if (x < 0.32 && method.equals("GET")) return new Fault.TruncateBody();
            return Fault.NONE;
          });
      BrokerRegistration node = h.register("writer");
      StorageEngine writer = h.engine(node.nodeId());
      StorageEngine reader = h.engine(1000);
      TopicInfo topic = h.topic("faults", 4);
      h.own(writer, topic);
      History history = new History();

      java.util.concurrent.CountDownLatch producing = new java.util.concurrent.CountDownLatch(8);
      List<Throwable> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
      try (ExecutorService producers = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int t = 0; t < 8; t++) {
          int thread = t;
          producers.execute(
              () -> {
                Random r = new Random(seed + thread);
                try {
                  for (int i = 0; i < 60; i++) {
                    TopicPartitionId tp = StorageHarness.tp(topic, r.nextInt(4));
                    List<String> values = new ArrayList<>();
                    for (int v = 0; v <= r.nextInt(3); v++) {
                      values.add("t" + thread + "-" + i + "-" + v);
                    }
                    long invoked = history.invoke();
                    try {
                      AppendResult res =
                          writer
                              .logs()
                              .append(
                                  tp,
                                  h.epoch(tp),
                                  TestBatches.values(values.toArray(String[]::new)),
                                  AppendOptions.defaults())
                              .join();
                      history.ok(tp, res.baseOffset(), values, invoked);
                    } catch (RuntimeException e) {
                      Throwable cause = StorageException.unwrap(e);
                      if (!(cause instanceof StorageException se) || !se.retriable()) {
                        // Recorded, not thrown: a throw here would end this thread and stall the
                        // reader.
                        unexpected.add(cause);
                      }
                      history.fail(tp, values);
                    }
                  }
                } finally {
                  producing.countDown();
                }
              });
        }
        // A cold reader polls while faults happen; whatever it sees must agree with the final
        // state.
        producers.execute(
            () -> {
              Random r = new Random(seed ^ 0x5eed);
              while (producing.getCount() > 0) {
                TopicPartitionId tp = StorageHarness.tp(topic, r.nextInt(4));
                try {
                  long hw = reader.reader().bounds(tp).join().highWatermark();
                  if (hw > 0) {
                    long offset = r.nextLong(hw);
                    for (Read read :
                        TestBatches.read(reader.reader().read(tp, offset, 4096).join().records())) {
                      history.observed(tp, read.offset(), read.value());
                    }
                  }
                } catch (RuntimeException e) {
                  assertThat(StorageException.unwrap(e)).isInstanceOf(StorageException.class);
                }
                try {
                  Thread.sleep(2);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
      }
      proxy.heal();

      StorageEngine finalReader = h.engine(2000);
      for (int p = 0; p < 4; p++) {
        TopicPartitionId tp = StorageHarness.tp(topic, p);
        history.finalRead(
            tp, Logs.readAll(finalReader, tp), h.ownership.describe(tp).join().highWatermark());
      }
      History.Report report = history.check(true);
      System.out.printf("seed=%d faults=%s %s%n", seed, proxy.injected(), report);
      assertThat(unexpected)
          .as("errors an append must never get (not a retriable storage error)")
          .isEmpty();
      assertThat(report.anomalies()).as("seed " + seed).isEmpty();
      assertThat(report.acknowledged()).isGreaterThan(100);
      assertThat(proxy.injected())
          .containsKeys("Status", "Reset", "DropResponse", "Delay", "TruncateBody");
    }
  }
}
