package com.example.service.lifecycle;

import io.vertx.core.Deployable;
import io.vertx.core.ThreadingModel;

/**
 * A verticle the HTTP routes depend on.
 *
 * @param name for the log
 * @param verticle the instance to deploy; its {@code stop()} finishes the work it has in progress
 * @param threading {@link ThreadingModel#WORKER} for one that blocks
 */
public record Component(String name, Deployable verticle, ThreadingModel threading) {}
