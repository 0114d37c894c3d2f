package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/** The write-ahead log: objects in the bucket, or a shared ReadWriteMany volume. */
@ValidationRule(
    value = "self.type == 'volume' ? has(self.volume) : !has(self.volume)",
    message = "wal.volume is required when wal.type is volume, and allowed only then")
// Switching would drop the volume with acknowledged writes that may not be in the bucket yet.
@ValidationRule(
    value = "self.type == oldSelf.type",
    message = "wal.type cannot change once the cluster exists")
public class WalSpec {

  /** Where the log is written. */
  public enum Type {
    @JsonProperty("object")
    OBJECT,
    @JsonProperty("volume")
    VOLUME
  }

  @Default("object")
  @JsonPropertyDescription(
      "object: acknowledged writes go straight to the bucket; volume: to a shared volume first"
          + " (lower latency), then to the bucket.")
  public Type type = Type.OBJECT;

  @JsonPropertyDescription("The ReadWriteMany volume, for type volume.")
  public VolumeSpec volume;

  /** The claim the operator creates for a volume WAL. */
  public static class VolumeSpec {
    @Required
    @JsonPropertyDescription("Storage class providing ReadWriteMany volumes (NFS, EFS, CephFS).")
    public String storageClassName;

    @Required
    @JsonPropertyDescription("Size of the volume, e.g. 50Gi.")
    public Quantity size;
  }
}
