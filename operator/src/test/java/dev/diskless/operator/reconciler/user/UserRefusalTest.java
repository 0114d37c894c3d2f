package dev.diskless.operator.reconciler.user;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.crd.DisklessKafkaUserSpec;
import dev.diskless.operator.crd.DisklessKafkaUserSpec.Authentication.Type;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

/**
 * Users for whom nothing is issued or registered: the operator's own name, and tls users whose name
 * would make a common name longer than RFC 5280 allows (SCRAM users may have such names).
 */
class UserRefusalTest {

  @Test
  void refusesTheOperatorsOwnNameWhateverItsAuthentication() {
    assertThat(UserSync.refusal(user("diskless-operator", Type.SCRAM_SHA_512)))
        .hasValueSatisfying(o -> assertThat(o.reason()).isEqualTo("ReservedName"));
    assertThat(UserSync.refusal(user("diskless-operator", Type.TLS)))
        .hasValueSatisfying(o -> assertThat(o.reason()).isEqualTo("ReservedName"));
  }

  @Test
  void refusesATlsUserWhoseNameIsLongerThanACommonNameMayBe() {
    String longest = "a".repeat(64);
    String tooLong = "a".repeat(65);
    assertThat(UserSync.refusal(user(longest, Type.TLS))).isEmpty();
    assertThat(UserSync.refusal(user(tooLong, Type.TLS)))
        .hasValueSatisfying(
            o -> {
              assertThat(o.ready()).isFalse();
              assertThat(o.reason()).isEqualTo("NameTooLong");
              assertThat(o.message()).contains(tooLong, "65", "64");
            });
    assertThat(UserSync.refusal(user(tooLong, Type.SCRAM_SHA_512))).isEmpty();
  }

  private static DisklessKafkaUser user(String name, Type type) {
    DisklessKafkaUser user = new DisklessKafkaUser();
    user.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("apps").build());
    DisklessKafkaUserSpec spec = new DisklessKafkaUserSpec();
    spec.cluster = "orders";
    spec.authentication = new DisklessKafkaUserSpec.Authentication();
    spec.authentication.type = type;
    user.setSpec(spec);
    return user;
  }
}
