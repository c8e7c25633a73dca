package com.example.service.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ClassPreloadTest {

  static final AtomicBoolean INITIALIZED = new AtomicBoolean();

  /** Tells {@link #INITIALIZED} when its static initializer runs. */
  static final class Probe {
    static {
      INITIALIZED.set(true);
    }

    private Probe() {}
  }

  /** Serves one list, and records each class asked of it. */
  private static final class Recording extends ClassLoader {
    final List<String> asked = new CopyOnWriteArrayList<>();
    private final String list;

    Recording(String list) {
      super(ClassPreloadTest.class.getClassLoader());
      this.list = list;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      asked.add(name);
      return super.loadClass(name, resolve);
    }

    @Override
    public InputStream getResourceAsStream(String name) {
      return name.equals("list")
          ? new ByteArrayInputStream(list.getBytes(StandardCharsets.UTF_8))
          : null;
    }
  }

  @Test
  void itLoadsTheListedClassesInTheirOrderAndPassesOverOnesThatAreGone() {
    Recording loader =
        new Recording("java.util.BitSet\nno.such.Gone\n" + Probe.class.getName() + "\n");

    int loaded = ClassPreload.load(loader, "list");

    assertThat(loaded).isEqualTo(2);
    assertThat(loader.asked)
        .containsExactly("java.util.BitSet", "no.such.Gone", Probe.class.getName());
  }

  @Test
  void noClassItLoadsIsInitialized() {
    ClassPreload.load(new Recording(Probe.class.getName()), "list");

    assertThat(INITIALIZED).isFalse();
  }

  @Test
  void withoutTheListItLoadsNothing() {
    assertThat(ClassPreload.load(new Recording(""), "no such list")).isZero();
  }

  @Test
  void itIsADaemonUnlessTurnedOff() {
    assertThat(ClassPreload.thread(null).isDaemon()).isTrue();
    assertThat(ClassPreload.thread("true").isDaemon()).isTrue();
    assertThat(ClassPreload.thread("false")).isNull();
  }

  @Test
  void theServiceCarriesItsList() {
    assertThat(ClassPreloadTest.class.getClassLoader().getResource(ClassPreload.LIST)).isNotNull();
  }
}
