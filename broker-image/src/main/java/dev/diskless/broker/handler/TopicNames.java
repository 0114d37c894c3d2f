package dev.diskless.broker.handler;

/** Kafka's rules for topic names: 1 to 249 characters of [a-zA-Z0-9._-], not "." or "..". */
final class TopicNames {

  private TopicNames() {}

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
