package dev.diskless.broker.quota;

import dev.diskless.broker.cluster.TableMirror;
import dev.diskless.broker.ops.KafkaMetricsBridge;
import dev.diskless.storage.metadata.ClientQuotaStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Quota;
import org.apache.kafka.common.metrics.QuotaViolationException;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.Rate;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.Sanitizer;
import org.apache.kafka.image.ClientQuotaImage;
import org.apache.kafka.image.ClientQuotasImage;
import org.apache.kafka.server.config.QuotaConfig;
import org.apache.kafka.server.quota.QuotaUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produce and fetch byte-rate quotas and request-time quotas per user and client id, as Kafka's
 * ClientQuotaManager and ClientRequestQuotaManager apply them on one broker: the most specific
 * entity with a quota wins (user and client id, then user with the default client, the user, the
 * default user with the client id, ... the default client id), a rate over 11 one-second windows is
 * kept per matched entity (a default quota applies to each user or client on its own), and a
 * request over the rate gets the throttle time Kafka computes ({@link QuotaUtils#throttleTime},
 * bounded to one window for request time). What counts as a request's time is {@link
 * RequestQuota}'s business. Throttle times are kept per entity and type, and exempt request time in
 * one rate, under Kafka's metric names. Quotas come from PostgreSQL, loaded at start and again when
 * notified (polled while notices are not heard), like ACLs; on a change the rates keep their
 * history and take the new bounds.
 */
public final class ClientQuotas implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClientQuotas.class);

  private static final String THROTTLE_TIME = "throttle-time";
  private static final int SAMPLES = QuotaConfig.NUM_QUOTA_SAMPLES_DEFAULT;
  private static final int WINDOW_SECONDS = QuotaConfig.QUOTA_WINDOW_SIZE_SECONDS_DEFAULT;

  /** What a quota limits, with its key, Kafka's metric group and the name of its rate. */
  public enum Type {
    PRODUCE(
        QuotaConfig.PRODUCER_BYTE_RATE_OVERRIDE_CONFIG,
        "Produce",
        "byte-rate",
        "Bytes per second of the client's produce requests"),
    FETCH(
        QuotaConfig.CONSUMER_BYTE_RATE_OVERRIDE_CONFIG,
        "Fetch",
        "byte-rate",
        "Bytes per second of the client's fetch responses"),
    /** Percent of one thread's time: 100 is one thread kept busy, 200 two. */
    REQUEST(
        QuotaConfig.REQUEST_PERCENTAGE_OVERRIDE_CONFIG,
        "Request",
        "request-time",
        "Tracking request-time per user/client-id");

    final String key;
    final String group;
    final String rate;
    final String description;

    Type(String key, String group, String rate, String description) {
      this.key = key;
      this.group = group;
      this.rate = rate;
      this.description = description;
    }

    static Type ofGroup(String group) {
      for (Type t : values()) {
        if (t.group.equals(group)) {
          return t;
        }
      }
      return null;
    }
  }

  /** One part of an entity to look a quota up by. */
  private enum Slot {
    ABSENT,
    DEFAULT,
    ACTUAL
  }

  /** Kafka's order of entities: the most specific defined one wins. */
  private static final Slot[][] LEVELS = {
    {Slot.ACTUAL, Slot.ACTUAL},
    {Slot.ACTUAL, Slot.DEFAULT},
    {Slot.ACTUAL, Slot.ABSENT},
    {Slot.DEFAULT, Slot.ACTUAL},
    {Slot.DEFAULT, Slot.DEFAULT},
    {Slot.DEFAULT, Slot.ABSENT},
    {Slot.ABSENT, Slot.ACTUAL},
    {Slot.ABSENT, Slot.DEFAULT}
  };

  private static void put(Map<String, String> entries, String type, Slot part, String name) {
    if (part != Slot.ABSENT) {
      entries.put(type, part == Slot.ACTUAL ? name : null);
    }
  }

  /** The keys enforced; any other valid Kafka key is refused rather than stored unenforced. */
  public static final Set<String> ENFORCED =
      Set.of(Type.PRODUCE.key, Type.FETCH.key, Type.REQUEST.key);

  /** Kafka's bound on a request-time throttle: one quota window. */
  private static final long MAX_REQUEST_THROTTLE_MS = TimeUnit.SECONDS.toMillis(WINDOW_SECONDS);

  private volatile TableMirror<ClientQuotaStore.Quota> mirror;
  private final Metrics metrics;

  /** Held while sensors are made and while new quotas are applied to the existing ones. */
  private final Object sensorLock = new Object();

  private volatile Map<ClientQuotaEntity, Map<String, Double>> quotas = Map.of();

  /** The keys some entity has a quota for. */
  private volatile Set<String> keysInUse = Set.of();

  /** Request time of exempt requests, all clients together (Kafka's exempt-request-time). */
  private final Sensor exempt;

  private ClientQuotas(MeterRegistry meters) {
    // Rates and throttle times per client reach /metrics as kafka.Produce.*, kafka.Fetch.* and
    // kafka.Request.*.
    this.metrics =
        new Metrics(new MetricConfig(), List.of(new KafkaMetricsBridge(meters)), Time.SYSTEM, true);
    // As Kafka: one sensor for all clients, made once and never expired.
    this.exempt = metrics.sensor("exempt-" + Type.REQUEST.group, windowed(), Long.MAX_VALUE);
    exempt.add(
        metrics.metricName(
            "exempt-request-time",
            Type.REQUEST.group,
            "Tracking exempt-request-time utilization percentage"),
        new Rate());
  }

  /** Loads every quota, then enforces them. */
  public static ClientQuotas start(ClientQuotaStore store, MeterRegistry meters) {
    return start(store::all, meters);
  }

  /** Loads every quota {@code rows} reads, then enforces them. */
  static ClientQuotas start(
      Supplier<CompletableFuture<List<ClientQuotaStore.Quota>>> rows, MeterRegistry meters) {
    ClientQuotas q = new ClientQuotas(meters);
    try {
      q.mirror = new TableMirror<>("client-quotas", rows, q::install);
      return q;
    } catch (RuntimeException e) {
      q.close();
      throw e;
    }
  }

  /** Reads quotas again while {@code listening} is false, and after a failed reload. */
  public void pollWhileNotHearing(BooleanSupplier listening) {
    mirror.pollWhileNotHearing(listening);
  }

  /** Reads all quotas and installs them; completes once they are installed. */
  public CompletableFuture<Void> reload() {
    return mirror.reload();
  }

  private void install(List<ClientQuotaStore.Quota> rows) {
    Map<ClientQuotaEntity, Map<String, Double>> next = new HashMap<>();
    for (ClientQuotaStore.Quota q : rows) {
      next.computeIfAbsent(entity(q.entity()), e -> new HashMap<>()).put(q.key(), q.value());
    }
    if (next.equals(quotas)) {
      return;
    }
    Set<String> keys = new HashSet<>();
    next.values().forEach(values -> keys.addAll(values.keySet()));
    synchronized (sensorLock) {
      quotas = next;
      keysInUse = Set.copyOf(keys);
      // As Kafka's updateQuotaMetricConfigs: the rates keep their history; each takes the bound
      // that now applies to its entity, and one no quota applies to any more goes.
      for (KafkaMetric m : List.copyOf(metrics.metrics().values())) {
        MetricName name = m.metricName();
        Type type = Type.ofGroup(name.group());
        if (type == null || !name.name().equals(type.rate)) {
          continue;
        }
        String user = Sanitizer.desanitize(name.tags().getOrDefault("user", ""));
        String client = name.tags().getOrDefault("client-id", "");
        Double limit = limitFor(type, user, client, next);
        if (limit == null) {
          metrics.removeSensor(sensorName(type, user, client));
        } else {
          m.config(config(limit));
        }
      }
    }
    LOG.info("client quotas loaded: {}", next);
  }

  /** Kafka's entity for a stored one. */
  public static ClientQuotaEntity entity(ClientQuotaStore.Entity e) {
    Map<String, String> entries = new LinkedHashMap<>();
    if (e.user().present()) {
      entries.put(ClientQuotaEntity.USER, e.user().name());
    }
    if (e.clientId().present()) {
      entries.put(ClientQuotaEntity.CLIENT_ID, e.clientId().name());
    }
    return new ClientQuotaEntity(entries);
  }

  /** The stored form of Kafka's entity (user and client-id parts only). */
  public static ClientQuotaStore.Entity stored(ClientQuotaEntity e) {
    Map<String, String> m = e.entries();
    return new ClientQuotaStore.Entity(
        m.containsKey(ClientQuotaEntity.USER)
            ? new ClientQuotaStore.Part(true, m.get(ClientQuotaEntity.USER))
            : ClientQuotaStore.Part.ABSENT,
        m.containsKey(ClientQuotaEntity.CLIENT_ID)
            ? new ClientQuotaStore.Part(true, m.get(ClientQuotaEntity.CLIENT_ID))
            : ClientQuotaStore.Part.ABSENT);
  }

  /** Whether any quota is defined: without one, nothing needs counting. */
  public boolean any() {
    return !quotas.isEmpty();
  }

  /** Whether any entity has a quota of {@code type} (Kafka's quotasEnabled). */
  public boolean any(Type type) {
    return keysInUse.contains(type.key);
  }

  /** DescribeClientQuotas, with Kafka's own matching of the filter. */
  public DescribeClientQuotasResponseData describe(DescribeClientQuotasRequestData request) {
    Map<ClientQuotaEntity, ClientQuotaImage> images = new HashMap<>();
    quotas.forEach((e, values) -> images.put(e, new ClientQuotaImage(values)));
    return new ClientQuotasImage(images).describe(request);
  }

  /**
   * Records {@code bytes} more of {@code type} for the client and returns how long it must be
   * throttled: 0 within its quota or when none applies.
   */
  public int record(Type type, KafkaPrincipal principal, String clientId, double bytes) {
    Optional<Sensor> sensor = sensor(type, principal, clientId);
    if (sensor.isEmpty()) {
      return 0;
    }
    long now = Time.SYSTEM.milliseconds();
    try {
      sensor.get().record(bytes, now, true);
      return 0;
    } catch (QuotaViolationException e) {
      long throttle =
          type == Type.REQUEST
              ? QuotaUtils.boundedThrottleTime(e, MAX_REQUEST_THROTTLE_MS, now)
              : QuotaUtils.throttleTime(e, now);
      return (int) Math.min(Integer.MAX_VALUE, throttle);
    }
  }

  /**
   * Records {@code value} more of {@code type} for the client without checking its quota: it counts
   * against the client's later requests (Kafka's recordNoThrottle).
   */
  public void recordNoThrottle(Type type, KafkaPrincipal principal, String clientId, double value) {
    sensor(type, principal, clientId)
        .ifPresent(s -> s.record(value, Time.SYSTEM.milliseconds(), false));
  }

  /** Records the request time of an exempt request, which is never throttled. */
  public void recordExempt(double percentSeconds) {
    exempt.record(percentSeconds);
  }

  /**
   * Records that the client's connection was throttled for {@code throttleMs} by its quota of
   * {@code type} (Kafka's throttle-time average, tagged as the quota's rate).
   */
  public void throttled(Type type, KafkaPrincipal principal, String clientId, int throttleMs) {
    Optional<Match> match = match(type, principal, clientId);
    if (match.isEmpty() || throttleMs <= 0) {
      return;
    }
    String user = match.get().user();
    String client = match.get().client();
    String name = type.group + "ThrottleTime-" + Sanitizer.sanitize(user) + ":" + client;
    Sensor s = metrics.getSensor(name);
    if (s == null) {
      synchronized (sensorLock) {
        s = metrics.getSensor(name);
        if (s == null) {
          s = metrics.sensor(name, windowed(), 3600);
          s.add(
              metrics.metricName(
                  THROTTLE_TIME,
                  type.group,
                  "Tracking average throttle-time per user/client-id",
                  Map.of("user", Sanitizer.sanitize(user), "client-id", client)),
              new Avg());
        }
      }
    }
    s.record(throttleMs);
  }

  /**
   * The most one response may carry for the client: its quota over the quota window, as Kafka caps
   * a fetch's bytes, so that a single response can fit; unlimited without a quota.
   */
  public long maxInWindow(Type type, KafkaPrincipal principal, String clientId) {
    return match(type, principal, clientId)
        .map(m -> (long) (m.limit() * (SAMPLES - 1) * WINDOW_SECONDS))
        .orElse(Long.MAX_VALUE);
  }

  /** Takes back bytes recorded for a response that was not sent (a throttled fetch's). */
  public void unrecord(Type type, KafkaPrincipal principal, String clientId, double bytes) {
    recordNoThrottle(type, principal, clientId, -bytes);
  }

  /** The entity whose quota applies to a client: its sensor's tags and its bound. */
  private record Match(String user, String client, double limit) {}

  private Optional<Match> match(Type type, KafkaPrincipal principal, String clientId) {
    Map<ClientQuotaEntity, Map<String, Double>> current = quotas;
    if (current.isEmpty()) {
      return Optional.empty();
    }
    String user = principal.getName();
    String client = clientId == null ? "" : clientId;
    for (Slot[] level : LEVELS) {
      Double limit = limit(current, type, level, user, client);
      if (limit != null) {
        // A default quota is each user's or client's own: the sensor is per actual name.
        return Optional.of(
            new Match(
                level[0] == Slot.ABSENT ? "" : user, level[1] == Slot.ABSENT ? "" : client, limit));
      }
    }
    return Optional.empty();
  }

  private static Double limit(
      Map<ClientQuotaEntity, Map<String, Double>> quotas,
      Type type,
      Slot[] level,
      String user,
      String client) {
    Map<String, String> entries = new HashMap<>();
    put(entries, ClientQuotaEntity.USER, level[0], user);
    put(entries, ClientQuotaEntity.CLIENT_ID, level[1], client);
    return quotas.getOrDefault(new ClientQuotaEntity(entries), Map.of()).get(type.key);
  }

  /**
   * The bound of an existing sensor, from its tags, as Kafka's default callback finds it: the
   * entities that could have matched a sensor with these tags, most specific first.
   */
  private static Double limitFor(
      Type type, String user, String client, Map<ClientQuotaEntity, Map<String, Double>> quotas) {
    Slot[][] candidates =
        !user.isEmpty() && !client.isEmpty()
            ? new Slot[][] {
              {Slot.ACTUAL, Slot.ACTUAL},
              {Slot.ACTUAL, Slot.DEFAULT},
              {Slot.DEFAULT, Slot.ACTUAL},
              {Slot.DEFAULT, Slot.DEFAULT}
            }
            : !user.isEmpty()
                ? new Slot[][] {{Slot.ACTUAL, Slot.ABSENT}, {Slot.DEFAULT, Slot.ABSENT}}
                : new Slot[][] {{Slot.ABSENT, Slot.ACTUAL}, {Slot.ABSENT, Slot.DEFAULT}};
    for (Slot[] level : candidates) {
      Double limit = limit(quotas, type, level, user, client);
      if (limit != null) {
        return limit;
      }
    }
    return null;
  }

  /** The sensor of the entity whose quota applies, or empty if none does. */
  private Optional<Sensor> sensor(Type type, KafkaPrincipal principal, String clientId) {
    Optional<Match> match = match(type, principal, clientId);
    if (match.isEmpty()) {
      return Optional.empty();
    }
    String user = match.get().user();
    String client = match.get().client();
    String name = sensorName(type, user, client);
    Sensor existing = metrics.getSensor(name);
    if (existing != null) {
      return Optional.of(existing);
    }
    synchronized (sensorLock) {
      existing = metrics.getSensor(name);
      if (existing != null) {
        return Optional.of(existing);
      }
      // Read again under the lock: quotas installed meanwhile must not be overwritten by a bound
      // read before them.
      Double limit = limitFor(type, user, client, quotas);
      if (limit == null) {
        return Optional.empty();
      }
      // Kafka's Metrics forgets a sensor idle for an hour; the next request makes it again.
      Sensor s = metrics.sensor(name, config(limit), 3600);
      s.add(
          metrics.metricName(
              type.rate,
              type.group,
              type.description,
              Map.of("user", Sanitizer.sanitize(user), "client-id", client)),
          new Rate());
      return Optional.of(s);
    }
  }

  private static String sensorName(Type type, String user, String client) {
    return type.group + "-" + Sanitizer.sanitize(user) + ":" + client;
  }

  private static MetricConfig config(double limit) {
    return windowed().quota(Quota.upperBound(limit));
  }

  private static MetricConfig windowed() {
    return new MetricConfig().timeWindow(WINDOW_SECONDS, TimeUnit.SECONDS).samples(SAMPLES);
  }

  @Override
  public void close() {
    if (mirror != null) {
      mirror.close();
    }
    metrics.close();
  }
}
