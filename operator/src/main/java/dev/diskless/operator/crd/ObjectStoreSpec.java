package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The bucket and how to reach it. */
public class ObjectStoreSpec {

  /** What happens to the bucket when the cluster is deleted. */
  public enum DeletionPolicy {
    @JsonProperty("Retain")
    RETAIN,
    @JsonProperty("Delete")
    DELETE
  }

  @Required
  @Pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
  @JsonPropertyDescription("Bucket name (3 to 63 lowercase letters, digits, dots and hyphens).")
  public String bucket;

  @Default("us-east-1")
  @JsonPropertyDescription("Region of the bucket.")
  public String region = "us-east-1";

  @Pattern("^https?://[^\\s]+$")
  @JsonPropertyDescription(
      "Endpoint URL of an S3-compatible store (MinIO, Ceph, S3Proxy); empty for AWS S3.")
  public String endpoint;

  @JsonPropertyDescription(
      "Address buckets by path rather than by host name (most non-AWS stores).")
  public boolean pathStyle;

  @JsonPropertyDescription(
      "Secret with static credentials; when absent the default chain applies (workload identity).")
  public AccessKeySecret credentialsSecret;

  @Default("true")
  @JsonPropertyDescription("Create the bucket if it does not exist.")
  public boolean createIfMissing = true;

  @Default("Retain")
  @JsonPropertyDescription("Retain or Delete the bucket and its data when the cluster is deleted.")
  public DeletionPolicy deletionPolicy = DeletionPolicy.RETAIN;

  /** Keys of an S3 access key pair in a Secret of the cluster's namespace. */
  public static class AccessKeySecret {
    @Required
    @JsonPropertyDescription("Name of the Secret.")
    public String name;

    @Default("AWS_ACCESS_KEY_ID")
    @JsonPropertyDescription("Key holding the access key id.")
    public String accessKeyIdKey = "AWS_ACCESS_KEY_ID";

    @Default("AWS_SECRET_ACCESS_KEY")
    @JsonPropertyDescription("Key holding the secret access key.")
    public String secretAccessKeyKey = "AWS_SECRET_ACCESS_KEY";
  }
}
