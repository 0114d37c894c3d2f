package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.ObjectStoreSpec;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/** CreateBucket names the region as AWS requires: outside us-east-1 only. */
class BucketCheckTest {

  @Test
  void aBucketOutsideUsEast1IsCreatedWithItsRegionAsLocationConstraint() {
    CreateBucketRequest request = BucketCheck.createBucket(spec("eu-west-1"));
    assertThat(request.bucket()).isEqualTo("b");
    assertThat(request.createBucketConfiguration().locationConstraintAsString())
        .isEqualTo("eu-west-1");
  }

  @Test
  void aBucketInUsEast1IsCreatedWithoutOne() {
    assertThat(BucketCheck.createBucket(spec("us-east-1")).createBucketConfiguration()).isNull();
  }

  private static ObjectStoreSpec spec(String region) {
    ObjectStoreSpec spec = new ObjectStoreSpec();
    spec.bucket = "b";
    spec.region = region;
    return spec;
  }
}
