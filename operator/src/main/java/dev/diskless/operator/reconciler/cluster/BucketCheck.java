package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.ObjectStoreSpec;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Whether the brokers' bucket is there and usable with the cluster's credentials: HeadBucket, and
 * CreateBucket when it is missing and the spec allows it. The answer names the S3 error
 * (AccessDenied, NoSuchBucket, ...) for the BucketReady condition. It runs off the reconcile
 * thread, with a client shared by the clusters using the same store and credentials ({@link
 * ExternalChecks}).
 */
public final class BucketCheck {

  /** The outcome, as a condition's status, reason and message. */
  public record Result(boolean ready, String reason, String message) {}

  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(BucketCheck.class);

  private BucketCheck() {}

  /**
   * The answer when the cluster's credentials could not be read (its Secret or a key of it is
   * missing): no S3 call is made.
   */
  static Result noCredentials(ObjectStoreAccess.Credentials credentials) {
    return new Result(false, credentials.failureReason(), credentials.failureMessage());
  }

  /**
   * HeadBucket, and CreateBucket if it is missing and allowed, with a client for the cluster's
   * store and credentials. Blocking (up to the client's timeouts): {@link ExternalChecks} calls it
   * off the reconcile thread.
   */
  static Result check(S3Client s3, DisklessKafkaCluster cluster) {
    ObjectStoreSpec spec = cluster.getSpec().objectStore;
    try {
      try {
        s3.headBucket(b -> b.bucket(spec.bucket));
        return available(spec);
      } catch (S3Exception e) {
        if (e.statusCode() != 404) {
          throw e;
        }
        if (!spec.createIfMissing) {
          return new Result(
              false,
              "NoSuchBucket",
              "bucket " + spec.bucket + " does not exist and objectStore.createIfMissing is false");
        }
        s3.createBucket(createBucket(spec));
        LOG.infof(
            "cluster=%s/%s created bucket %s",
            cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), spec.bucket);
        return available(spec);
      }
    } catch (S3Exception e) {
      String code =
          e.awsErrorDetails() != null && e.awsErrorDetails().errorCode() != null
              ? e.awsErrorDetails().errorCode()
              : e.statusCode() == 403 ? "AccessDenied" : "S3Error" + e.statusCode();
      return new Result(false, code, "bucket " + spec.bucket + ": " + e.getMessage());
    } catch (SdkClientException e) {
      return new Result(false, "Unreachable", "bucket " + spec.bucket + ": " + e.getMessage());
    }
  }

  /**
   * CreateBucket in the spec's region: outside us-east-1 AWS refuses a CreateBucket without a
   * LocationConstraint naming the region (IllegalLocationConstraintException), and in us-east-1 it
   * refuses one that names it.
   */
  static CreateBucketRequest createBucket(ObjectStoreSpec spec) {
    CreateBucketRequest.Builder request = CreateBucketRequest.builder().bucket(spec.bucket);
    if (spec.region != null && !spec.region.isBlank() && !spec.region.equals(US_EAST_1)) {
      request.createBucketConfiguration(c -> c.locationConstraint(spec.region));
    }
    return request.build();
  }

  private static final String US_EAST_1 = "us-east-1";

  /** The same answer whether it was just created or already there, so the status stays put. */
  private static Result available(ObjectStoreSpec spec) {
    return new Result(true, "BucketAvailable", "bucket " + spec.bucket + " is reachable");
  }
}
