/**
 * The example application: the part of the template you replace with your own.
 *
 * <p>{@link com.example.service.example.ExampleApplication} mounts {@code GET /hello}, {@code POST
 * /work} and {@code GET /jobs/:id}. A job travels HTTP → {@link
 * com.example.service.example.WorkerVerticle} → {@link com.example.service.example.JobStore}, and
 * the client gets its 201 only after the job is committed, so every id a client saw is in the
 * database; with an {@code Idempotency-Key}, a retry never makes a second job.
 */
package com.example.service.example;
