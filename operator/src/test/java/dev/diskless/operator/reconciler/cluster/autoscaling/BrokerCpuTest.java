package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The CPU counter as the broker exports it: Micrometer's ProcessorMetrics in Prometheus format. The
 * operator's classpath has Quarkus's Micrometer (the simpleclient registry) rather than the
 * broker's newer one; both apply the same Prometheus naming convention to {@code process.cpu.time}.
 */
class BrokerCpuTest {

  @Test
  void theCounterOfProcessorMetricsIsReadInSeconds() {
    // The same binder as Broker.java, on this test's own JVM.
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ProcessorMetrics().bindTo(registry);
    double before =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime()
            / 1e9;
    String exposition = registry.scrape();
    assertThat(exposition).contains("# TYPE " + BrokerCpu.METRIC + " counter");
    double seconds = BrokerCpu.seconds(exposition).orElseThrow();
    assertThat(seconds).isGreaterThan(0).isGreaterThanOrEqualTo(before * 0.99);
  }

  @Test
  void aBrokerWithoutTheCounterHasNoReading() {
    assertThat(BrokerCpu.seconds("process_cpu_usage 0.5\n")).isEmpty();
    assertThat(BrokerCpu.seconds("process_cpu_time_ns_total 3.03E9\n")).hasValue(3.03);
  }
}
