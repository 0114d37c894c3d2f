package dev.diskless.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Keeps the benchmark runnable: a tiny run must write, read back everything and print its table.
 */
class StorageEngineBenchmarkIT {

  @Test
  void aSmallRunReadsBackWhatItWroteInEveryConfiguration() throws Exception {
    var options = new StorageEngineBenchmark.Options(4, 4, 2, 1024, 4, 2L << 20, 2);
    StorageEngineBenchmark.Report report = StorageEngineBenchmark.run(options);
    assertThat(report.walObjects()).isPositive();
    long written = (2L << 20) / (4 * 1024 + 61 + 4 * 20) * (4 * 1024 + 61 + 4 * 20);
    assertThat(report.reads()).hasSize(4);
    // Each read pass returns every byte written, no more (batch framing included).
    assertThat(report.reads())
        .allSatisfy(r -> assertThat(r.bytes()).isEqualTo(report.reads().get(0).bytes()));
    assertThat(report.reads().get(0).bytes()).isGreaterThan(written / 2);
    assertThat(report.table()).contains("| MB/s |").contains("GETs per MB");
  }
}
