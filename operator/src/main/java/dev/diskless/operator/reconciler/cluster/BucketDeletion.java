package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * deletionPolicy Delete: removes every object under the cluster's key prefix, then the bucket if
 * nothing else is left in it. Objects of anything else sharing the bucket are never touched, and a
 * bucket that still holds them is kept. Called only once the brokers are gone, so nothing writes
 * under the prefix meanwhile.
 */
final class BucketDeletion {

  /** What was done, for the log. */
  record Outcome(long objectsDeleted, boolean bucketDeleted, String note) {}

  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(BucketDeletion.class);

  private BucketDeletion() {}

  /**
   * Deletes the cluster's objects and, if then empty, its bucket. Throws on an S3 error so that the
   * cleanup is retried; returns with a note when it cannot ever succeed (no credentials left).
   */
  static Outcome delete(KubernetesClient client, DisklessKafkaCluster cluster) {
    String bucket = cluster.getSpec().objectStore.bucket;
    String prefix = ClusterNames.keyPrefix(cluster);
    ObjectStoreAccess.Opened opened = ObjectStoreAccess.open(client, cluster);
    if (!opened.ok()) {
      // Deleting a namespace deletes the credentials Secret at the same time as the cluster:
      // waiting
      // for it would block the namespace forever.
      return new Outcome(0, false, "bucket " + bucket + " kept: " + opened.failureMessage());
    }
    long deleted = 0;
    try (S3Client s3 = opened.s3()) {
      String token = null;
      do {
        String continuation = token;
        ListObjectsV2Response page =
            s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).continuationToken(continuation));
        List<ObjectIdentifier> keys =
            page.contents().stream()
                .map(o -> ObjectIdentifier.builder().key(o.key()).build())
                .toList();
        if (!keys.isEmpty()) {
          var result =
              s3.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(keys).quiet(true)));
          if (result.hasErrors() && !result.errors().isEmpty()) {
            var first = result.errors().get(0);
            throw new IllegalStateException(
                "deleting "
                    + result.errors().size()
                    + " objects of bucket "
                    + bucket
                    + " failed, first "
                    + first.key()
                    + ": "
                    + first.code()
                    + " "
                    + first.message());
          }
          deleted += keys.size();
        }
        token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
      } while (token != null);
      LOG.infof(
          "cluster=%s/%s deleted %d objects under %s%s",
          cluster.getMetadata().getNamespace(),
          cluster.getMetadata().getName(),
          deleted,
          bucket + "/",
          prefix);
      if (!s3.listObjectsV2(b -> b.bucket(bucket).maxKeys(1)).contents().isEmpty()) {
        return new Outcome(
            deleted, false, "bucket " + bucket + " kept: it holds objects of something else");
      }
      s3.deleteBucket(b -> b.bucket(bucket));
      return new Outcome(deleted, true, "bucket " + bucket + " deleted");
    } catch (NoSuchBucketException gone) {
      return new Outcome(deleted, false, "bucket " + bucket + " was already gone");
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return new Outcome(deleted, false, "bucket " + bucket + " was already gone");
      }
      throw e;
    }
  }
}
