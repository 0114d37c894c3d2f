package dev.diskless.broker.config;

import java.util.Optional;

/**
 * One broker setting as the broker was started with it, for DescribeConfigs of the broker ({@code
 * kafka-configs.sh --describe --all --entity-type brokers}): its value, whether it was set (in the
 * settings file or the environment) or is the default, and whether it is a secret, which is never
 * reported.
 *
 * @param value empty when neither set nor defaulted
 * @param type Kafka's config type name: STRING, INT, LONG or BOOLEAN
 */
public record StaticSetting(
    String name,
    Optional<String> value,
    boolean explicit,
    boolean sensitive,
    String type,
    String documentation) {

  /** Whether a setting's value must not be shown: passwords and secret keys. */
  public static boolean sensitive(String name) {
    return name.contains("password") || name.contains("secret");
  }

  /** The value as it may be shown: a JDBC URL's password parameter masked. */
  public static String shown(String name, String value) {
    return name.endsWith("jdbc.url")
        ? value.replaceAll("(?i)(password=)[^&;]*", "$1[hidden]")
        : value;
  }
}
