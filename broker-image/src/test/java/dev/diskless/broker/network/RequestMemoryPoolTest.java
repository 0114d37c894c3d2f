package dev.diskless.broker.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RequestMemoryPoolTest {

  private final AtomicInteger wokenA = new AtomicInteger();
  private final AtomicInteger wokenB = new AtomicInteger();
  private final Runnable waiterA = wokenA::incrementAndGet;
  private final Runnable waiterB = wokenB::incrementAndGet;

  @Test
  void reservationsThatDoNotFitWaitAndAreWokenWhenMemoryIsGivenBack() {
    RequestMemoryPool pool = new RequestMemoryPool(100);
    RequestMemoryPool.Lease first = pool.tryReserve(60, waiterA);
    assertThat(first).isNotNull();
    assertThat(pool.tryReserve(50, waiterA)).as("60 + 50 > 100").isNull();
    assertThat(pool.tryReserve(70, waiterB)).isNull();
    RequestMemoryPool.Lease small = pool.tryReserve(40, waiterA);
    assertThat(small).as("what fits is admitted while larger requests wait").isNotNull();
    assertThat(pool.used()).isEqualTo(100);
    assertThat(wokenA).hasValue(0);

    first.release();
    first.release();
    assertThat(pool.used()).as("a lease is given back once").isEqualTo(40);
    assertThat(wokenA).as("A got its memory and stopped waiting").hasValue(0);
    assertThat(wokenB).hasValue(1);

    small.release();
    assertThat(wokenB).as("woken once per wait, not per release").hasValue(1);
    assertThat(pool.used()).isZero();
  }

  @Test
  void aCancelledWaiterIsNotWoken() {
    RequestMemoryPool pool = new RequestMemoryPool(10);
    RequestMemoryPool.Lease all = pool.tryReserve(10, waiterA);
    assertThat(pool.tryReserve(1, waiterB)).isNull();
    pool.cancel(waiterB);
    all.release();
    assertThat(wokenB).hasValue(0);
  }

  @Test
  void aRequestLargerThanTheBudgetIsAdmittedOnlyAlone() {
    RequestMemoryPool pool = new RequestMemoryPool(100);
    RequestMemoryPool.Lease small = pool.tryReserve(1, waiterA);
    assertThat(pool.tryReserve(500, waiterB)).isNull();
    small.release();
    assertThat(wokenB).hasValue(1);
    RequestMemoryPool.Lease huge = pool.tryReserve(500, waiterB);
    assertThat(huge).isNotNull();
    assertThat(pool.tryReserve(1, waiterA)).as("nothing joins it").isNull();
    huge.release();
    assertThat(pool.used()).isZero();
  }

  @Test
  void gaugesReportUseCapacityAndPausedConnections() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RequestMemoryPool pool = new RequestMemoryPool(1000).bindTo(registry);
    RequestMemoryPool.Lease lease = pool.tryReserve(300, waiterA);
    pool.pausedConnections().incrementAndGet();
    assertThat(registry.get("diskless.requests.memory.used.bytes").gauge().value()).isEqualTo(300);
    assertThat(registry.get("diskless.requests.memory.capacity.bytes").gauge().value())
        .isEqualTo(1000);
    assertThat(registry.get("diskless.requests.memory.paused.connections").gauge().value())
        .isEqualTo(1);
    lease.release();
    assertThat(registry.get("diskless.requests.memory.used.bytes").gauge().value()).isZero();
  }

  @Test
  void aBudgetMustBePositive() {
    assertThatThrownBy(() -> new RequestMemoryPool(0)).hasMessageContaining("positive");
  }
}
