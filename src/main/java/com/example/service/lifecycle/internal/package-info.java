/**
 * The machinery behind the lifecycle, not for applications: the drain ({@code HttpDrain}, and per
 * event loop {@code LoopDrain} with its {@code LoopConnections}), the connection layer that holds
 * every connection to the limits (HTTP/1.1: {@code ConnectionGuard} and its handlers; HTTP/2:
 * {@code Http2Switch}, {@code Http2Timeouts}, {@code Http2Streams}), the HTTP verticle, and {@code
 * Internals}, the one file that uses Vert.x internals or reflection. Its public classes are public
 * only for the lifecycle's own package; they may change with any release.
 */
package com.example.service.lifecycle.internal;
