package dev.diskless.broker.quota;

import dev.diskless.broker.cluster.TableMirror;
import dev.diskless.broker.ops.KafkaMetricsBridge;
import dev.diskless.storage.metadata.ClientQuotaStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Quota;
import org.apache.kafka.common.metrics.QuotaViolationException;
import org.apache.kafka.common.metrics.Sensor;
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
 * Produce and fetch byte-rate quotas per user and client id, as Kafka's ClientQuotaManager applies
 * them on one broker: the most specific entity with a quota wins (user and client id, then user
 * with the default client, the user, the default user with the client id, ... the default client
 * id), a rate over 11 one-second windows is kept per matched entity (a default quota applies to
 * each user or client on its own), and a request over the rate gets the throttle time Kafka
 * computes ({@link QuotaUtils#throttleTime}). Quotas come from PostgreSQL, loaded at start and
 * again when notified (polled while notices are not heard), like ACLs; on a change the rates keep
 * their history and take the new bounds.
 */
public final class ClientQuotas implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClientQuotas.class);

  private static final String RATE = "byte-rate";
  private static final int SAMPLES = QuotaConfig.NUM_QUOTA_SAMPLES_DEFAULT;
  private static final int WINDOW_SECONDS = QuotaConfig.QUOTA_WINDOW_SIZE_SECONDS_DEFAULT;

  /** What a quota limits, with its key and Kafka's metric group. */
  public enum Type {
    PRODUCE(QuotaConfig.PRODUCER_BYTE_RATE_OVERRIDE_CONFIG, "Produce"),
    FETCH(QuotaConfig.CONSUMER_BYTE_RATE_OVERRIDE_CONFIG, "Fetch");

    final String key;
    final String group;

    Type(String key, String group) {
      this.key = key;
      this.group = group;
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
  public static final Set<String> ENFORCED = Set.of(Type.PRODUCE.key, Type.FETCH.key);

  private volatile TableMirror<ClientQuotaStore.Quota> mirror;
  private final Metrics metrics;

  /** Held while sensors are made and while new quotas are applied to the existing ones. */
  private final Object sensorLock = new Object();

  private volatile Map<ClientQuotaEntity, Map<String, Double>> quotas = Map.of();

  private ClientQuotas(MeterRegistry meters) {
    // Rates and throttle times per client reach /metrics as kafka.produce.* and kafka.fetch.*.
    this.metrics =
        new Metrics(new MetricConfig(), List.of(new KafkaMetricsBridge(meters)), Time.SYSTEM, true);
  }

  /** Loads every quota, then enforces them. */
  public static ClientQuotas start(ClientQuotaStore store, MeterRegistry meters) {
    ClientQuotas q = new ClientQuotas(meters);
    try {
      q.mirror = new TableMirror<>("client-quotas", store::all, q::install);
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
    synchronized (sensorLock) {
      quotas = next;
      // As Kafka's updateQuotaMetricConfigs: the rates keep their history; each takes the bound
      // that now applies to its entity, and one no quota applies to any more goes.
      for (KafkaMetric m : List.copyOf(metrics.metrics().values())) {
        MetricName name = m.metricName();
        Type type = Type.ofGroup(name.group());
        if (type == null || !name.name().equals(RATE)) {
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
      return (int) Math.min(Integer.MAX_VALUE, QuotaUtils.throttleTime(e, now));
    }
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
    sensor(type, principal, clientId)
        .ifPresent(s -> s.record(-bytes, Time.SYSTEM.milliseconds(), false));
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
              RATE,
              type.group,
              "Bytes per second of the client's " + type.group.toLowerCase() + " requests",
              Map.of("user", Sanitizer.sanitize(user), "client-id", client)),
          new Rate());
      return Optional.of(s);
    }
  }

  private static String sensorName(Type type, String user, String client) {
    return type.group + "-" + Sanitizer.sanitize(user) + ":" + client;
  }

  private static MetricConfig config(double limit) {
    return new MetricConfig()
        .timeWindow(WINDOW_SECONDS, TimeUnit.SECONDS)
        .samples(SAMPLES)
        .quota(Quota.upperBound(limit));
  }

  @Override
  public void close() {
    if (mirror != null) {
      mirror.close();
    }
    metrics.close();
  }
}
