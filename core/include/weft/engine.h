/*
 * The engine, for programs that embed weft (weftd is one of them).
 * Call these from one thread, the "main" thread, except weft_engine_stop()
 * (any thread) and weft_engine_wait() (any one thread).
 */
#ifndef WEFT_ENGINE_H
#define WEFT_ENGINE_H

#include <weft/common.h>

WEFT_BEGIN_DECLS

/* Allocates an engine.  0 or WEFT_ENOMEM. */
WEFT_EXTERN int weft_engine_new(weft_engine_t **engine);

/*
 * Reads a configuration (libconfig syntax, see weft.conf(5)) from a file, or
 * from text with `origin` naming it in messages.  Each problem is logged at
 * error level as "file:line: message".  0, or WEFT_ECONFIG.
 */
WEFT_EXTERN int weft_engine_load_file(weft_engine_t *engine, const char *path);
WEFT_EXTERN int weft_engine_load_string(weft_engine_t *engine,
                                        const char *text, const char *origin);

/*
 * Loads the embedded default configuration: line echo on 127.0.0.1:7000 and
 * 4-byte length-prefixed echo on 127.0.0.1:7001.  Its plugins must be
 * built in (weftd preloads them) or found in the install directory.
 */
WEFT_EXTERN int weft_engine_load_default(weft_engine_t *engine);

/*
 * Checks the configuration the last load gave, even one it refused: loads
 * every plugin it names readably and creates each listener's codec and
 * handler once, to validate their options, then releases them.  Binds
 * nothing.  Returns the number of problems found, 0 if none: each logged
 * here, or by the refused load (counted, not logged again); 1 when nothing
 * was loaded.
 */
WEFT_EXTERN int weft_engine_check(weft_engine_t *engine);

/*
 * Loads plugins, binds every listener on every worker and starts the worker
 * threads.  On failure nothing stays bound.  0 or a WEFT_E* code.
 */
WEFT_EXTERN int weft_engine_start(weft_engine_t *engine);

/*
 * Asks the engine to stop.  Graceful (force == 0): stop accepting, tell each
 * handler, deliver what was received, flush replies, shut down writing, and
 * close within the shutdown grace.  force != 0 closes everything at once.
 * Safe from any thread (not from a signal handler).
 */
WEFT_EXTERN void weft_engine_stop(weft_engine_t *engine, int force);

/*
 * Re-reads the configuration (path, or NULL for the file loaded before) and
 * applies it to the running engine: new listeners start, removed ones stop
 * accepting, changed ones are replaced; open connections keep the codec
 * and handler instances they started with.  A plugin file changed on disk
 * is loaded anew.  `workers` changes only on restart.  On any problem
 * (each logged) nothing changes.  Main thread.  0 or a WEFT_E* code.
 */
WEFT_EXTERN int weft_engine_reload(weft_engine_t *engine, const char *path);

/*
 * Frees listeners a reload retired once their last connection has closed,
 * and unloads plugins nothing uses any more.  Call from the main thread
 * now and then (weftd: every second); reload calls it too.
 */
WEFT_EXTERN void weft_engine_maintain(weft_engine_t *engine);

/*
 * Blocks until every worker has stopped, then releases them.  May run on
 * a thread of its own (weftd does, to keep its main thread on signals);
 * weft_engine_stop() stays safe meanwhile.  0, or a WEFT_E* code.
 */
WEFT_EXTERN int weft_engine_wait(weft_engine_t *engine);

/* Frees the engine and unloads its plugins.  Only after wait (or before start). */
WEFT_EXTERN void weft_engine_free(weft_engine_t *engine);

/*
 * Writes one line per plugin that can be found: built-ins, then every
 * "*.so" in the configured plugin path and the install directory, with
 * kind, ABI version and file.  Returns the number of files that failed to
 * load (each with its reason).
 */
WEFT_EXTERN int weft_engine_list_plugins(weft_engine_t *engine, void *stdio_file);

WEFT_END_DECLS

#endif /* WEFT_ENGINE_H */
