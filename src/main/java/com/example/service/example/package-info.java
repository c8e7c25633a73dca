/**
 * The example application: the part of the template you replace with your own.
 *
 * <p>{@link com.example.service.example.ExampleApplication} mounts {@code GET /hello} and {@code
 * GET /work?ms=N}. A job travels HTTP → {@link com.example.service.example.WorkerVerticle} → {@link
 * com.example.service.example.JournalVerticle}, and the client gets its 200 only after the journal
 * has written the job, so every id a client saw is in the journal file.
 */
package com.example.service.example;
