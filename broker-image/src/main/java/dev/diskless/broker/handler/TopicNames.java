package dev.diskless.broker.handler;

/** Kafka's rules for topic names: 1 to 249 characters of [a-zA-Z0-9._-], not "." or "..". */
final class TopicNames {

  private TopicNames() {}

  /**
   * The name a request means: its own for versions that name topics, else the one metadata has for
   * its topic id (null if that id is unknown).
   */
  static String resolve(
      dev.diskless.broker.cluster.ClusterView view, String name, org.apache.kafka.common.Uuid id) {
    if (name != null && !name.isEmpty()) {
      return name;
    }
    if (id == null || id.equals(org.apache.kafka.common.Uuid.ZERO_UUID)) {
      return null;
    }
    var topic =
        view.current()
            .topicsById()
            .get(new java.util.UUID(id.getMostSignificantBits(), id.getLeastSignificantBits()));
    return topic == null ? null : topic.name();
  }

  /** Null when valid, else why not. */
  static String validate(String name) {
    if (name == null || name.isEmpty()) {
      return "topic name is empty";
    }
    if (name.equals(".") || name.equals("..")) {
      return "topic name cannot be \".\" or \"..\"";
    }
    if (name.length() > 249) {
      return "topic name is longer than 249 characters";
    }
    if (!name.matches("[a-zA-Z0-9._-]+")) {
      return "topic name "
          + name
          + " has characters other than ASCII alphanumerics, '.', '_' and '-'";
    }
    return null;
  }
}
