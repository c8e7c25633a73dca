package com.example.service.lifecycle;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Loads the classes the lifecycle needs on its way to serving, on a thread of its own, while the
 * main thread reads the configuration and starts Vert.x. Without an archive, a start spends much of
 * its time reading and parsing the 1,400 classes it loads from the jar (Vert.x, Netty,
 * vertx-config, Jackson, Micrometer, the lifecycle's own), one after the other on the main thread;
 * a second core does that ahead of it, and the main thread finds them loaded. Verifying and
 * initializing each class stay on the thread that first uses it. A class-data-sharing archive or an
 * AOT cache (the image's) does more, ahead of time; with one, this thread finds each class loaded
 * already.
 *
 * <p>It only loads: no static initializer runs on this thread, so nothing a class does as it
 * initializes moves or happens sooner (Netty reads the properties {@link SystemDefaults} sets as
 * its classes initialize). The list ({@value #LIST}) holds the classes of the jar that a start of
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
    Thread thread = thread(System.getProperty(ENABLED));
    if (thread != null) {
      thread.start();
    }
  }

  /** The thread that loads the list, not started; none if {@code enabled} is "false". */
  static Thread thread(String enabled) {
    if ("false".equals(enabled)) {
      return null;
    }
    // A class, not a lambda: this may be the process's first, whose bootstrap (some milliseconds)
    // would fall on the main thread before this one starts.
    Thread thread = new Thread(new LoadList(ClassPreload.class.getClassLoader()), "class-preload");
    thread.setDaemon(true);
    return thread;
  }

  private static final class LoadList implements Runnable {
    private final ClassLoader loader;

    LoadList(ClassLoader loader) {
      this.loader = loader;
    }

    @Override
    public void run() {
      load(loader, LIST);
    }
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
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
          // From an older build: the main thread never asks for it, or says why it cannot load;
          // either way, nothing for this thread to report.
        }
      }
    } catch (IOException e) {
      // The jar is unreadable: the main thread's own loading says so.
    }
    return loaded;
  }
}
