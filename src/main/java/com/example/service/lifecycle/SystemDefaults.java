package com.example.service.lifecycle;

/**
 * The service's defaults for switches that the libraries underneath read from system properties
 * once, as they load. {@link #apply}, called before any of those libraries loads ({@code Main}
 * calls it as it is loaded), sets each one that the command line ({@code -D}) has not set already.
 */
public final class SystemDefaults {

  /**
   * Netty's events for Java Flight Recorder (JFR) from its buffer allocators, off by default here.
   * With them on (Netty's default), Netty registers them with the JDK's flight recorder when it
   * allocates its first buffer, at a service's first request. That loads JFR's metadata, about 130
   * classes, and takes tens of milliseconds of that request and of the start. A recording leaves
   * the events off unless its settings name them, so only a user who asks for them loses anything.
   * Such a user starts the service with {@code -Dio.netty.jfr.enabled=true}.
   */
  public static final String NETTY_JFR = "io.netty.jfr.enabled";

  private SystemDefaults() {}

  /**
   * Sets each default the command line has not set, for the whole process; call it before anything
   * loads Netty.
   */
  public static void apply() {
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
  }
}
