package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

/** What the cluster should be. The operator reads it and never writes it. */
public class DisklessKafkaClusterSpec {

  @JsonPropertyDescription("The brokers: how many, their image, resources and pod settings.")
  @Default("{}")
  public BrokersSpec brokers = new BrokersSpec();

  @Required
  @JsonPropertyDescription("The S3-compatible bucket that holds the write-ahead log and all data.")
  public ObjectStoreSpec objectStore;

  @JsonPropertyDescription("Where acknowledged writes wait before they reach object storage.")
  @Default("{}")
  public WalSpec wal = new WalSpec();

  @Required
  @JsonPropertyDescription("The PostgreSQL database that holds ownership, offsets and the index.")
  public MetadataSpec metadata;

  @JsonPropertyDescription("The Kafka listener clients connect to (plaintext).")
  @Default("{}")
  public ListenersSpec listeners = new ListenersSpec();
}
