package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** Ports of the brokers. TLS and SASL are not offered yet. */
@ValidationRule(
    value = "self.kafkaPort != self.httpPort",
    message = "listeners.kafkaPort and listeners.httpPort must differ")
public class ListenersSpec {

  @Min(1024)
  @Max(65535)
  @Default("9092")
  @JsonPropertyDescription("Port of the Kafka listener (plaintext) on each broker and the Service.")
  public int kafkaPort = 9092;

  @Min(1024)
  @Max(65535)
  @Default("8080")
  @JsonPropertyDescription("Port of /metrics, /healthz and /readyz on each broker.")
  public int httpPort = 8080;
}
