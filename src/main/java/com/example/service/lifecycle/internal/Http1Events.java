package com.example.service.lifecycle.internal;

/**
 * What one HTTP/1 connection's {@link ConnectionGuard} tells its loop's {@link LoopConnections}.
 */
final class Http1Events implements ConnectionGuard.Events {

  private final LoopConnections loop;
  private final TrackedConnection conn;

  Http1Events(LoopConnections loop, TrackedConnection conn) {
    this.loop = loop;
    this.conn = conn;
  }

  @Override
  public void responseEnded() {
    loop.responseEnded(conn);
  }

  @Override
  public void lost(int requests) {
    loop.lost(requests);
  }

  @Override
  public void http2(Http2Switch.Upgrade upgrade) {
    loop.toHttp2(conn, upgrade);
  }

  @Override
  public void upgradedClosed() {
    loop.closed(conn);
  }
}
