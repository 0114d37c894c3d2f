package dev.diskless.config;

import static dev.diskless.config.BrokerSettingsSchema.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BrokerSettingsValuesTest {

  @Test
  void whatTheOperatorRendersTheBrokerReadsBack() {
    BrokerSettingsValues written =
        BrokerSettingsValues.empty()
            .with(OBJECT_STORE_BUCKET, "events")
            .with(OBJECT_STORE_ENDPOINT, "http://minio:9000")
            .with(WAL_MAX_AGE_MS, 25L)
            .with(LISTEN_PORT, 9093)
            .withRaw("group.initial.rebalance.delay.ms", "0");
    String file = written.render();
    assertThat(file)
        .isEqualTo(
            "group.initial.rebalance.delay.ms=0\n"
                + "listen.port=9093\n"
                + "object.store.bucket=events\n"
                + "object.store.endpoint=http://minio:9000\n"
                + "wal.max.age.ms=25\n");
    BrokerSettingsValues read =
        BrokerSettingsValues.parse(
            file, Map.of(INSTANCE_ID.envVar(), "pod-1", "DISKLESS_LISTEN_PORT", "9094"));
    assertThat(read.get(OBJECT_STORE_BUCKET)).isEqualTo("events");
    assertThat(read.get(WAL_MAX_AGE_MS)).isEqualTo(25L);
    assertThat(read.get(LISTEN_PORT)).as("environment wins").isEqualTo(9094);
    assertThat(read.get(INSTANCE_ID)).isEqualTo("pod-1");
    assertThat(read.get(HTTP_PORT)).as("default").isEqualTo(8080);
    assertThat(read.find(RACK)).isEmpty();
  }

  @Test
  void anEmptyOptionalSettingIsNotSet() {
    // What the downward API gives for a pod label that is absent: the broker runs without a rack.
    assertThat(BrokerSettingsValues.parse("", Map.of(RACK.envVar(), "")).find(RACK)).isEmpty();
    assertThat(BrokerSettingsValues.parse("rack= \n", Map.of()).find(RACK)).isEmpty();
    assertThat(BrokerSettingsValues.parse("", Map.of(RACK.envVar(), "eu-west-1b")).find(RACK))
        .contains("eu-west-1b");
    // A required setting given empty is still refused where it is used, not silently absent.
    assertThat(BrokerSettingsValues.parse("", Map.of(INSTANCE_ID.envVar(), "")).find(INSTANCE_ID))
        .contains("");
  }

  @Test
  void badInputIsNamed() {
    assertThatThrownBy(() -> BrokerSettingsValues.parse("log.dirs=/x\n", Map.of()))
        .hasMessageContaining("log.dirs");
    assertThatThrownBy(() -> BrokerSettingsValues.parse("listen.port=ninety\n", Map.of()))
        .hasMessageContaining("listen.port");
    assertThatThrownBy(() -> BrokerSettingsValues.parse("object.store.path.style=yes\n", Map.of()))
        .hasMessageContaining("object.store.path.style");
    assertThatThrownBy(() -> BrokerSettingsValues.empty().get(METADATA_JDBC_URL))
        .hasMessageContaining("metadata.jdbc.url")
        .hasMessageContaining("DISKLESS_METADATA_JDBC_URL");
  }

  @Test
  void aListenerMayOverrideItsSecuritySettings() {
    String file =
        "listeners=INTERNAL://0.0.0.0:9092,EXTERNAL://0.0.0.0:9094\n"
            + "sasl.enabled.mechanisms=PLAIN\n"
            + "listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512\n"
            + "listener.name.external.ssl.certificate.location=/tls/tls.crt\n";
    BrokerSettingsValues read =
        BrokerSettingsValues.parse(
            file, Map.of("DISKLESS_LISTENER_NAME_SASL_SSL_SSL_KEY_LOCATION", "/k/tls.key"));
    assertThat(read.getForListener("EXTERNAL", SASL_ENABLED_MECHANISMS)).isEqualTo("SCRAM-SHA-512");
    assertThat(read.getForListener("INTERNAL", SASL_ENABLED_MECHANISMS)).isEqualTo("PLAIN");
    assertThat(read.findForListener("external", SSL_CERTIFICATE_LOCATION)).contains("/tls/tls.crt");
    assertThat(read.findForListener("INTERNAL", SSL_CERTIFICATE_LOCATION)).isEmpty();
    assertThat(read.findForListener("SASL_SSL", SSL_KEY_LOCATION)).contains("/k/tls.key");
    assertThat(read.getForListener("EXTERNAL", SSL_CLIENT_AUTH)).as("default").isEqualTo("none");
    assertThat(read.render())
        .contains("listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512");
    assertThat(BrokerSettingsValues.parse(read.render(), Map.of()).render())
        .isEqualTo(read.render());
    assertThatThrownBy(
            () -> BrokerSettingsValues.parse("listener.name.external.log.dirs=/x\n", Map.of()))
        .hasMessageContaining("listener.name.external.log.dirs")
        .hasMessageContaining("listener.name.<listener>.");
  }

  @Test
  void everyKeyIsUniqueAndOverridesAreKnownKeys() {
    assertThat(ALL.stream().map(BrokerSetting::key)).doesNotHaveDuplicates();
    assertThat(ALL.stream().map(BrokerSetting::key).toList()).containsAll(OVERRIDABLE);
    assertThat(OVERRIDABLE).doesNotContain(INSTANCE_ID.key(), OBJECT_STORE_BUCKET.key());
  }
}
