/*
 * Plugin options.  A plugin's create() reads the options given to it in the
 * configuration through these accessors, never through the configuration
 * library's own types.  Every accessor marks the option as known; after
 * create() returns, any option that no accessor asked for is reported as
 * unknown, naming the plugin, the option and the file:line.
 *
 * All accessors return 0 and store the value (or the default when the option
 * is absent), or return WEFT_EINVAL when the option is present but its value
 * is of the wrong type or out of range.  In that case the error, with the
 * file:line of the option, is already recorded for the operator: create()
 * should just return the code.  The options object is valid only during
 * create(); copy strings you keep.  Call from create() only (main thread).
 */
#ifndef WEFT_OPTS_H
#define WEFT_OPTS_H

#include <weft/common.h>

WEFT_BEGIN_DECLS

/* An integer in [min, max]. */
WEFT_EXTERN int weft_opt_int(weft_opts_t *opts, const char *name, int64_t def,
                             int64_t min, int64_t max, int64_t *out);

/* true/false. */
WEFT_EXTERN int weft_opt_bool(weft_opts_t *opts, const char *name, int def,
                              int *out);

/* A string; *out points into opts (valid during create() only). */
WEFT_EXTERN int weft_opt_str(weft_opts_t *opts, const char *name,
                             const char *def, const char **out);

/*
 * ABI 1.2.  A string from a fixed set: choices is NULL-terminated, *out the
 * index of the one given, def's when the option is absent.  Any other
 * string is an error that lists the choices.
 */
WEFT_EXTERN int weft_opt_choice(weft_opts_t *opts, const char *name,
                                const char *const *choices, int def,
                                int *out);

/*
 * A byte size in [min, max]: an integer, or a string with a binary unit
 * suffix: "512", "64k", "8M", "1G" (k = 1024).
 */
WEFT_EXTERN int weft_opt_size(weft_opts_t *opts, const char *name,
                              uint64_t def, uint64_t min, uint64_t max,
                              uint64_t *out);

/*
 * A duration in milliseconds, in [min_ms, max_ms]: a string with a unit,
 * "250ms", "30s", "5m", "1h", or an integer meaning seconds.
 */
WEFT_EXTERN int weft_opt_duration(weft_opts_t *opts, const char *name,
                                  uint64_t def_ms, uint64_t min_ms,
                                  uint64_t max_ms, uint64_t *out_ms);

/*
 * Records an error about option name (NULL: about the plugin as a whole),
 * for combinations of values that cannot work.  Returns WEFT_EINVAL so a
 * create() can `return weft_opt_error(...)`.
 */
WEFT_EXTERN int weft_opt_error(weft_opts_t *opts, const char *name,
                               const char *fmt, ...) WEFT_PRINTF(3, 4);

/* Name of the plugin these options are for. */
WEFT_EXTERN const char *weft_opts_plugin_name(const weft_opts_t *opts);

WEFT_END_DECLS

#endif /* WEFT_OPTS_H */
