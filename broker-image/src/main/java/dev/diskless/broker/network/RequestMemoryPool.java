package dev.diskless.broker.network;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker-wide budget of request bytes (Kafka's {@code queued.max.request.bytes} and its {@code
 * MemoryPool}): a connection reserves a request's announced size before reading its body and gives
 * it back when the request is answered or dropped. A reservation that does not fit is refused at
 * once and the caller is told, through its waiter, when memory was given back, so callers never
 * block. A request larger than the whole budget is admitted only while nothing else is reserved.
 * Any request that fits is admitted even while larger ones wait: a paused connection must not hold
 * up those whose requests can complete.
 */
final class RequestMemoryPool {

  /** Bytes held for one request; {@link #release()} gives them back once, however often called. */
  static final class Lease {
    private final RequestMemoryPool pool;
    private final long bytes;
    private final AtomicBoolean released = new AtomicBoolean();

    private Lease(RequestMemoryPool pool, long bytes) {
      this.pool = pool;
      this.bytes = bytes;
    }

    long bytes() {
      return bytes;
    }

    void release() {
      if (released.compareAndSet(false, true)) {
        pool.release(bytes);
      }
    }
  }

  private final long capacity;
  private final Object lock = new Object();
  private final LinkedHashSet<Runnable> waiters = new LinkedHashSet<>();
  private final AtomicInteger paused = new AtomicInteger();
  private long used;

  RequestMemoryPool(long capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("request memory must be positive, got " + capacity);
    }
    this.capacity = capacity;
  }

  /** Registers {@code diskless.requests.memory.*} gauges. */
  RequestMemoryPool bindTo(MeterRegistry registry) {
    Gauge.builder("diskless.requests.memory.used.bytes", this, RequestMemoryPool::used)
        .description("Bytes of requests being read or handled (queued.max.request.bytes budget)")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder("diskless.requests.memory.capacity.bytes", this, p -> p.capacity)
        .description("queued.max.request.bytes")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder("diskless.requests.memory.paused.connections", paused, AtomicInteger::get)
        .description("Connections not read because their next request does not fit the budget")
        .register(registry);
    return this;
  }

  /**
   * Reserves {@code bytes}, or returns null and runs {@code waiter} (once, on the releasing thread;
   * it must not block) the next time memory is given back. A waiter that stops waiting calls {@link
   * #cancel}.
   */
  Lease tryReserve(long bytes, Runnable waiter) {
    synchronized (lock) {
      if (used + Math.min(bytes, capacity) <= capacity) {
        used += bytes;
        waiters.remove(waiter);
        return new Lease(this, bytes);
      }
      waiters.add(waiter);
      return null;
    }
  }

  void cancel(Runnable waiter) {
    synchronized (lock) {
      waiters.remove(waiter);
    }
  }

  private void release(long bytes) {
    List<Runnable> wake;
    synchronized (lock) {
      used -= bytes;
      if (waiters.isEmpty()) {
        return;
      }
      // Every waiter retries: which of them fits is theirs to find out on their own threads.
      wake = new ArrayList<>(waiters);
      waiters.clear();
    }
    wake.forEach(Runnable::run);
  }

  long used() {
    synchronized (lock) {
      return used;
    }
  }

  long capacity() {
    return capacity;
  }

  /** Counts connections paused for memory, for the gauge. */
  AtomicInteger pausedConnections() {
    return paused;
  }
}
