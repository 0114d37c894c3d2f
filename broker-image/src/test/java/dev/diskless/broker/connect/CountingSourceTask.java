package dev.diskless.broker.connect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/** Emits the next ten numbers each poll, resuming after the last offset Connect committed. */
public final class CountingSourceTask extends SourceTask {

  static final Map<String, String> PARTITION = Map.of("source", "counter");

  private String topic;
  private long next;

  @Override
  public void start(Map<String, String> props) {
    topic = props.get("topic");
    Map<String, Object> stored = context.offsetStorageReader().offset(PARTITION);
    next = stored == null ? 0 : ((Number) stored.get("position")).longValue() + 1;
  }

  @Override
  public List<SourceRecord> poll() throws InterruptedException {
    Thread.sleep(20);
    List<SourceRecord> out = new ArrayList<>();
    for (int i = 0; i < 10; i++, next++) {
      out.add(
          new SourceRecord(
              PARTITION,
              Map.of("position", next),
              topic,
              0,
              Schema.STRING_SCHEMA,
              "n",
              Schema.STRING_SCHEMA,
              Long.toString(next)));
    }
    return out;
  }

  @Override
  public void stop() {}

  @Override
  public String version() {
    return "1";
  }
}
