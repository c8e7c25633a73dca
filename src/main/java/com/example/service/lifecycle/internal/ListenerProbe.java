package com.example.service.lifecycle.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Asks the kernel whether a listening socket still exists on an address, without connecting to it.
 *
 * <p>Needed because closing a listener in Java is not immediate: a {@code ServerSocketChannel}
 * registered with a selector (as every Netty server channel is) keeps its file descriptor open
 * after {@code close()} until the selector's next {@code select} deregisters it, and Netty reports
 * the channel closed before that. In that window the kernel still completes connections and queues
 * them, and resets them when the descriptor finally closes (checked on JDK 17).
 *
 * <p>The probe binds a client socket with {@code SO_REUSEADDR} to the listener's address. Linux
 * refuses that bind while a socket on the address is in LISTEN state, and allows it beside the
 * connections accepted from it. Nothing is sent and nothing listens.
 */
final class ListenerProbe {

  private ListenerProbe() {}

  /** True while a socket listens on {@code host:port}. */
  static boolean listening(String host, int port) {
    try (Socket probe = new Socket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(host, port));
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
