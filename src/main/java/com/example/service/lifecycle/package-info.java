/**
 * The lifecycle an application runs in: what an application implements ({@link
 * com.example.service.lifecycle.Application}, {@link com.example.service.lifecycle.Component}),
 * what it configures ({@link com.example.service.lifecycle.Config}, {@link
 * com.example.service.lifecycle.LifecycleOptions}, {@link
 * com.example.service.lifecycle.HttpLimits}), what its routes use ({@link
 * com.example.service.lifecycle.Responses}, {@link com.example.service.lifecycle.WebSocketRoute},
 * {@link com.example.service.lifecycle.EventStreamRoute}, {@link
 * com.example.service.lifecycle.LongLived}), and what {@code Main} runs ({@link
 * com.example.service.lifecycle.Service}, {@link com.example.service.lifecycle.ShutdownSignals},
 * {@link com.example.service.lifecycle.Logging}, {@link com.example.service.lifecycle.Metrics}).
 * The machinery is in {@code internal}.
 */
package com.example.service.lifecycle;
