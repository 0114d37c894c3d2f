package dev.diskless.broker.connect;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * A test source connector: one task that emits the numbers 0, 1, 2, ... to {@code topic}, with its
 * position as the source offset, so a restarted worker must resume from the offset Connect stored.
 */
public final class CountingSourceConnector extends SourceConnector {

  private Map<String, String> config;

  @Override
  public void start(Map<String, String> props) {
    config = Map.copyOf(props);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return CountingSourceTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    return List.of(config);
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return new ConfigDef()
        .define("topic", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "Where numbers go.");
  }

  @Override
  public String version() {
    return "1";
  }
}
