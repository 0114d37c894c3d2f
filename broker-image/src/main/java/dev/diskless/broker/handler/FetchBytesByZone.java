package dev.diskless.broker.handler;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;

/**
 * Record bytes this broker returned to consumers, by where the consumer is: {@code
 * diskless.fetch.bytes{zone=same}} when the client's rack ({@code client.rack}, Fetch v11+) is this
 * broker's rack, {@code zone=cross} when they differ (traffic that crosses zones, which clouds
 * bill), {@code zone=unknown} when either has none.
 */
final class FetchBytesByZone {

  private final Counter same;
  private final Counter cross;
  private final Counter unknown;

  FetchBytesByZone(MeterRegistry meters) {
    this.same = counter(meters, "same");
    this.cross = counter(meters, "cross");
    this.unknown = counter(meters, "unknown");
  }

  private static Counter counter(MeterRegistry meters, String zone) {
    return Counter.builder("diskless.fetch.bytes")
        .description("Record bytes returned to fetches, by the client's zone relative to ours")
        .baseUnit("bytes")
        .tag("zone", zone)
        .register(meters);
  }

  void record(Optional<String> brokerRack, String clientRack, long bytes) {
    if (bytes <= 0) {
      return;
    }
    if (brokerRack.isEmpty() || clientRack == null || clientRack.isEmpty()) {
      unknown.increment(bytes);
    } else if (brokerRack.get().equals(clientRack)) {
      same.increment(bytes);
    } else {
      cross.increment(bytes);
    }
  }
}
