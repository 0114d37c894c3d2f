package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The checks run on their own threads, never the caller's: a reconcile gets the last answer for its
 * spec at once (none before the first), an old answer is refreshed in the background, a changed
 * answer asks for a reconcile, an answer about an earlier spec is dropped, and a forgotten
 * cluster's client is released even when its check was running.
 */
class ExternalChecksTest {

  private static final Duration REFRESH = Duration.ofSeconds(25);

  private final ExecutorService pool = Executors.newSingleThreadExecutor();
  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final Clock clock =
      new Clock() {
        @Override
        public Instant instant() {
          return now.get();
        }

        @Override
        public java.time.ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }
      };

  /** Answers what the test hands it, one per check, on the check thread. */
  private final class ScriptedChecker implements ExternalChecks.Checker {
    final BlockingQueue<ExternalChecks.Results> answers = new LinkedBlockingQueue<>();
    final List<String> checkedBuckets = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final List<ResourceID> forgotten = new CopyOnWriteArrayList<>();

    @Override
    public ExternalChecks.Results check(ResourceID id, DisklessKafkaCluster cluster) {
      threads.add(Thread.currentThread().getName());
      checkedBuckets.add(cluster.getSpec().objectStore.bucket);
      try {
        ExternalChecks.Results r = answers.poll(10, TimeUnit.SECONDS);
        if (r == null) {
          throw new IllegalStateException("no answer scripted");
        }
        return r;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void forget(ResourceID id) {
      forgotten.add(id);
    }
  }

  private final ScriptedChecker checker = new ScriptedChecker();
  private final ExternalChecks checks = new ExternalChecks(checker, pool, clock, REFRESH);
  private final BlockingQueue<ResourceID> reconciles = new LinkedBlockingQueue<>();

  {
    checks.onChange(reconciles::add);
  }

  @AfterEach
  void stop() {
    checks.stop();
  }

  @Test
  void theFirstReconcileGetsNoAnswerAndTheCheckRunsOnItsOwnThread() throws Exception {
    DisklessKafkaCluster cluster = cluster("orders-data");
    // The checker has no answer yet, i.e. it is still waiting on the network: latest returns.
    assertThat(checks.latest(cluster)).isEmpty();
    assertThat(checks.latest(cluster)).as("one check at a time").isEmpty();
    checker.answers.add(answer("BucketAvailable"));
    assertThat(reconciles.poll(10, TimeUnit.SECONDS)).isEqualTo(ResourceID.fromResource(cluster));
    assertThat(checks.latest(cluster).map(r -> r.bucket().reason())).contains("BucketAvailable");
    assertThat(checker.threads).hasSize(1).doesNotContain(Thread.currentThread().getName());
  }

  @Test
  void anOldAnswerIsServedWhileItIsCheckedAgainInTheBackground() throws Exception {
    DisklessKafkaCluster cluster = cluster("orders-data");
    answered(cluster, answer("BucketAvailable"));

    now.set(now.get().plus(REFRESH).minusSeconds(1));
    assertThat(checks.latest(cluster)).isPresent();
    assertThat(checker.checkedBuckets).as("not due yet").hasSize(1);

    now.set(now.get().plusSeconds(1));
    assertThat(checks.latest(cluster).map(r -> r.bucket().reason()))
        .as("the old answer meanwhile")
        .contains("BucketAvailable");
    checker.answers.add(answer("AccessDenied"));
    assertThat(reconciles.poll(10, TimeUnit.SECONDS)).isNotNull();
    assertThat(checks.latest(cluster).map(r -> r.bucket().reason())).contains("AccessDenied");

    // The same answer again asks for no reconcile.
    now.set(now.get().plus(REFRESH));
    checks.latest(cluster);
    checker.answers.add(answer("AccessDenied"));
    await().atMost(Duration.ofSeconds(10)).until(() -> checker.answers.isEmpty());
    assertThat(reconciles.poll(500, TimeUnit.MILLISECONDS)).isNull();
    assertThat(checker.checkedBuckets).hasSize(3);
  }

  @Test
  void anAnswerAboutAnEarlierSpecIsDroppedAndTheNewSpecIsChecked() throws Exception {
    DisklessKafkaCluster before = cluster("old-bucket");
    answered(before, answer("BucketAvailable"));
    now.set(now.get().plus(REFRESH));
    checks.latest(before); // starts a check of old-bucket, which waits for its answer
    await().atMost(Duration.ofSeconds(10)).until(() -> checker.checkedBuckets.size() == 2);

    DisklessKafkaCluster after = cluster("new-bucket");
    assertThat(checks.latest(after)).as("nothing known about new-bucket").isEmpty();
    checker.answers.add(answer("AboutOldBucket"));
    checker.answers.add(answer("NoSuchBucket"));
    assertThat(reconciles.poll(10, TimeUnit.SECONDS)).isNotNull();
    assertThat(checker.checkedBuckets).containsExactly("old-bucket", "old-bucket", "new-bucket");
    assertThat(checks.latest(after).map(r -> r.bucket().reason())).contains("NoSuchBucket");
  }

  @Test
  void aCheckThatFailsIsTheAnswer() throws Exception {
    ExternalChecks failing =
        new ExternalChecks(
            new ExternalChecks.Checker() {
              @Override
              public ExternalChecks.Results check(ResourceID id, DisklessKafkaCluster cluster) {
                throw new IllegalStateException("secrets is forbidden");
              }
            },
            Executors.newSingleThreadExecutor(),
            clock,
            REFRESH);
    try {
      BlockingQueue<ResourceID> asked = new LinkedBlockingQueue<>();
      failing.onChange(asked::add);
      DisklessKafkaCluster cluster = cluster("orders-data");
      failing.latest(cluster);
      assertThat(asked.poll(10, TimeUnit.SECONDS)).isNotNull();
      ExternalChecks.Results r = failing.latest(cluster).orElseThrow();
      assertThat(r.bucket().ready()).isFalse();
      assertThat(r.bucket().reason()).isEqualTo("CheckFailed");
      assertThat(r.bucket().message()).contains("secrets is forbidden");
      assertThat(r.metadata().reason()).isEqualTo("CheckFailed");
    } finally {
      failing.stop();
    }
  }

  @Test
  void aClusterForgottenDuringItsCheckIsReleasedAfterIt() throws Exception {
    DisklessKafkaCluster cluster = cluster("orders-data");
    ResourceID id = ResourceID.fromResource(cluster);
    checks.latest(cluster);
    await().atMost(Duration.ofSeconds(10)).until(() -> checker.checkedBuckets.size() == 1);
    checks.forget(id);
    assertThat(checker.forgotten).containsExactly(id);
    checker.answers.add(answer("BucketAvailable"));
    // The check may have taken a client again: released once more after it.
    await().atMost(Duration.ofSeconds(10)).until(() -> checker.forgotten.size() == 2);
    assertThat(reconciles.poll(200, TimeUnit.MILLISECONDS)).isNull();
  }

  private void answered(DisklessKafkaCluster cluster, ExternalChecks.Results answer)
      throws InterruptedException {
    assertThat(checks.latest(cluster)).isEmpty();
    checker.answers.add(answer);
    assertThat(reconciles.poll(10, TimeUnit.SECONDS)).isNotNull();
    assertThat(checks.latest(cluster)).isEqualTo(Optional.of(answer));
  }

  private static ExternalChecks.Results answer(String bucketReason) {
    return new ExternalChecks.Results(
        new MetadataCheck.Result(true, "Connected", "ok"),
        new BucketCheck.Result(bucketReason.equals("BucketAvailable"), bucketReason, "bucket"));
  }

  /** The golden minimal cluster, with {@code bucket}. */
  private static DisklessKafkaCluster cluster(String bucket) throws Exception {
    DisklessKafkaCluster c =
        new KubernetesSerialization()
            .unmarshal(
                Files.readString(Path.of("src/test/resources/golden/in-minimal.yaml")),
                DisklessKafkaCluster.class);
    c.getSpec().objectStore.bucket = bucket;
    return c;
  }
}
