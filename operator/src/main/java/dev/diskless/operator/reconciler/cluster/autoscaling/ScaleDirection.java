package dev.diskless.operator.reconciler.cluster.autoscaling;

/** Which way a scale decision changes the broker count. */
public enum ScaleDirection {
  UP("Up"),
  DOWN("Down"),
  NONE("None");

  private final String label;

  ScaleDirection(String label) {
    this.label = label;
  }

  /** As written in the status (lastScaleDirection). */
  public String label() {
    return label;
  }

  /** The direction a status label names, NONE for anything else. */
  public static ScaleDirection ofLabel(String label) {
    for (ScaleDirection d : values()) {
      if (d.label.equals(label)) {
        return d;
      }
    }
    return NONE;
  }
}
