package dev.diskless.operator.reconciler.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/**
 * The broker image a cluster runs when its spec names none: {@code DISKLESS_BROKER_IMAGE} when the
 * chart sets it (its {@code brokerImage} values, tag defaulting to the chart's appVersion), else
 * {@code diskless/broker:<version>} with the version this operator was built as. One version, the
 * Maven project's, names the operator, its default broker image and the chart's appVersion
 * (ChartTest checks the chart against it).
 */
public final class BrokerImage {

  /** The environment variable the chart sets. */
  public static final String ENV = "DISKLESS_BROKER_IMAGE";

  private BrokerImage() {}

  /** The version this operator was built as (from the Maven build). */
  public static String version() {
    try (InputStream in = BrokerImage.class.getResourceAsStream("/diskless-version.properties")) {
      if (in == null) {
        throw new IllegalStateException("diskless-version.properties is missing from the build");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The default image given the operator's environment. */
  public static String defaultImage(Map<String, String> env) {
    String configured = env.get(ENV);
    return configured != null && !configured.isBlank()
        ? configured.trim()
        : "diskless/broker:" + version();
  }
}
