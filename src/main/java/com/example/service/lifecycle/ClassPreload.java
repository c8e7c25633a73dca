package com.example.service.lifecycle;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Loads the classes the lifecycle needs on its way to serving, on a thread of its own, while the
 * main thread reads the configuration and starts Vert.x. A start spends most of its time loading
 * and verifying about 1,600 classes from the jar (Vert.x, Netty, Micrometer, Jackson, the
 * lifecycle's own), one after the other on the main thread; a second core loads them ahead of it,
 * and the main thread finds them loaded. It is what a class-data-sharing archive does for the
 * image, for a plain {@code java -jar}; with an archive, the classes it names come from the
 * archive.
 *
 * <p>It only loads: no static initializer runs (each still runs on the thread that first uses its
 * class, in the order it always did), so nothing a class does as it initializes moves to this
 * thread or happens sooner. The list ({@value #LIST}) holds the classes of the jar that a start of
 * the lifecycle loads, in the order it loads them; a test checks it against a start
 * (ClassPreloadIT, which also says how to write it again). A class of the list that is not on the
 * class path is passed over, so a stale list costs time, never a failure. {@code
 * -Dclass.preload=false} turns it off (the test's training run, or to compare starts).
 */
public final class ClassPreload {

  /** The class path resource listing the classes: one binary name a line. */
  public static final String LIST = "META-INF/lifecycle-classes.txt";

  /** The system property that turns it off when {@code false}. */
  public static final String ENABLED = "class.preload";

  private ClassPreload() {}

  /** Starts loading the listed classes on a daemon thread, and returns at once. */
  public static void start() {
    if ("false".equals(System.getProperty(ENABLED))) {
      return;
    }
    ClassLoader loader = ClassPreload.class.getClassLoader();
    Thread thread = new Thread(() -> load(loader, LIST), "class-preload");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Loads, without initializing, each class that the resource {@code list} names, in its order,
   * through {@code loader}.
   *
   * @return how many of them loaded; none if there is no such resource
   */
  static int load(ClassLoader loader, String list) {
    InputStream in = loader.getResourceAsStream(list);
    if (in == null) {
      return 0;
    }
    int loaded = 0;
    try (BufferedReader names =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String name = names.readLine(); name != null; name = names.readLine()) {
        try {
          Class.forName(name, false, loader);
          loaded++;
        } catch (ClassNotFoundException | LinkageError e) {
          // From an older build: the main thread never asks for it, or says why it cannot load.
        }
      }
    } catch (IOException e) {
      // The jar is unreadable: the main thread's own loading says so.
    }
    return loaded;
  }
}
