package dev.diskless.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.config.BrokerSettingsSchema;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The CRD's CEL allow-list must be a compile-time constant, so it is written out by hand; this
 * keeps it equal to what the broker's own schema says may be overridden.
 */
class BrokerConfigOverridesTest {

  @Test
  void theCrdAcceptsExactlyTheBrokersOverridableSettings() {
    var listed =
        Arrays.stream(BrokerConfigOverrides.KEYS.split(","))
            .map(k -> k.trim().replace("'", ""))
            .toList();
    assertThat(listed).containsExactlyInAnyOrderElementsOf(BrokerSettingsSchema.OVERRIDABLE);
  }
}
