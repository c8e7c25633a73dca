package com.example.service;

/** {@link Main} running the lifecycle tests' {@link TestApplication}, for the process tests. */
public final class TestMain {

  private TestMain() {}

  public static void main(String[] args) {
    System.exit(Main.run(new TestApplication(), args));
  }
}
