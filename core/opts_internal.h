/* Building plugin options from the configuration (the engine's side). */
#ifndef WEFT_CORE_OPTS_INTERNAL_H
#define WEFT_CORE_OPTS_INTERNAL_H

#include <weft/opts.h>

/*
 * kind ("codec"/"handler") and plugin name appear in messages; origin is the
 * config file name.  Errors are collected in the object, each formatted as
 * "origin:line: KIND "NAME": message".
 */
weft_opts_t *weft__opts_new(const char *kind, const char *plugin,
                            const char *origin);
void weft__opts_free(weft_opts_t *opts);
/* The line of the plugin's group, used when an error has no option line. */
void weft__opts_set_line(weft_opts_t *opts, int line);

/*
 * The engine and the listener copy whose plugin create() receives opts
 * (wl is NULL for a --check run, which binds nothing and starts no worker).
 */
struct weft__wlistener;
void weft__opts_set_owner(weft_opts_t *opts, weft_engine_t *e,
                          struct weft__wlistener *wl);
weft_engine_t *weft__opts_engine(const weft_opts_t *opts);
struct weft__wlistener *weft__opts_owner(const weft_opts_t *opts);
const char *weft__opts_origin(const weft_opts_t *opts);
int weft__opts_line(const weft_opts_t *opts);

/* Values as the config gave them; `line` is the option's line in origin. */
int weft__opts_add_int(weft_opts_t *opts, const char *name, int64_t v, int line);
int weft__opts_add_float(weft_opts_t *opts, const char *name, double v, int line);
int weft__opts_add_bool(weft_opts_t *opts, const char *name, int v, int line);
int weft__opts_add_str(weft_opts_t *opts, const char *name, const char *v,
                       int line);
/* Records an error that is not about one option's value (e.g. a nested group). */
void weft__opts_fail(weft_opts_t *opts, int line, const char *fmt, ...)
    WEFT_PRINTF(3, 4);

/* Copies from's error messages into o (a plugin's options inside another's). */
void weft__opts_add_errors(weft_opts_t *o, const weft_opts_t *from);

/* Same options with the same values, in the same order. */
int weft__opts_equal(const weft_opts_t *a, const weft_opts_t *b);

/* Records an "unknown option" error for each option nobody asked for. */
void weft__opts_check_unused(weft_opts_t *opts);

/* Number of errors recorded, and the i-th message. */
size_t weft__opts_nerrors(const weft_opts_t *opts);
const char *weft__opts_error(const weft_opts_t *opts, size_t i);

/*
 * The name among names nearest to word (a typo, or a shortened name), or
 * NULL when none is near: for "did you mean ...?" hints.
 */
const char *weft__closest(const char *word, const char *const *names, size_t n);
/* Writes "a, b" + last + "c" (last: " and ", " or ") into buf, truncated. */
void weft__names_join(char *buf, size_t len, const char *const *names, size_t n,
                      const char *last);

/*
 * Adds "NAME=VALUE" from a command line, typed as libconfig would type the
 * value (see opts_arg.c).  0, WEFT_EINVAL (not NAME=VALUE), WEFT_ENOMEM.
 */
int weft__opts_add_arg(weft_opts_t *opts, const char *arg, int line);

/* Parsers shared with the engine's own settings.  0 or WEFT_EINVAL. */
int weft__parse_size(const char *s, uint64_t *out);
int weft__parse_duration(const char *s, uint64_t *out_ms);

#endif /* WEFT_CORE_OPTS_INTERNAL_H */
