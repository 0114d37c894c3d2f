package dev.diskless.e2e.kube;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A consumer group member reading the workloads' topics while they are written (the fetch half of a
 * load), on a thread of its own, with the client's defaults (offsets committed automatically).
 * Every record it reads is handed to its topic's {@link ProduceWorkload}, whose check holds it
 * against the final read, and counted once per value, so that a test can wait until the live reader
 * has seen every acknowledged record.
 */
final class LiveConsumer implements AutoCloseable {

  private final Map<String, ProduceWorkload> workloads;
  private final Map<String, Set<String>> seen = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile boolean running = true;

  LiveConsumer(String bootstrap, String group, Map<String, ProduceWorkload> workloads) {
    this(bootstrap, group, workloads, Map.of());
  }

  /** With further consumer settings, e.g. {@code client.rack}. */
  LiveConsumer(
      String bootstrap,
      String group,
      Map<String, ProduceWorkload> workloads,
      Map<String, String> settings) {
    this.workloads = Map.copyOf(workloads);
    workloads.keySet().forEach(t -> seen.put(t, ConcurrentHashMap.newKeySet()));
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.putAll(settings);
    KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    consumer.subscribe(List.copyOf(workloads.keySet()));
    thread =
        Thread.ofPlatform()
            .name("live-consumer-" + group)
            .start(
                () -> {
                  try (consumer) {
                    while (running) {
                      for (ConsumerRecord<String, String> r :
                          consumer.poll(Duration.ofMillis(200))) {
                        this.workloads
                            .get(r.topic())
                            .observed(r.partition(), r.offset(), r.value());
                        seen.get(r.topic()).add(r.value());
                      }
                    }
                  }
                });
  }

  /** Distinct values read from {@code topic} so far. */
  long distinct(String topic) {
    return seen.get(topic).size();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join();
  }
}
