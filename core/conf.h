/* The configuration, read from libconfig syntax into plain structs. */
#ifndef WEFT_CORE_CONF_H
#define WEFT_CORE_CONF_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <weft/opts.h>

typedef struct weft__addr {
  int family; /* AF_INET, AF_INET6 or AF_UNIX */
  struct sockaddr_storage ss;
  char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} weft__addr_t;

/* A codec or handler as a listener names it. */
typedef struct weft__plugin_spec {
  char *name;        /* name = "line"; NULL when given by path */
  char *path;        /* plugin = "./x.so"; NULL when given by name */
  weft_opts_t *opts; /* everything else in the group */
  int line;
} weft__plugin_spec_t;

typedef struct weft__listener_conf {
  char *name;
  char *bind;
  weft__addr_t addr;
  weft__plugin_spec_t codec;
  weft__plugin_spec_t handler;
  int backlog;
  uint64_t high_watermark;
  uint64_t low_watermark;
  int64_t max_connections;        /* 0: no limit */
  int64_t max_connections_per_ip; /* 0: no limit */
  uint64_t idle_timeout_ms;       /* 0: off */
  uint64_t frame_timeout_ms;      /* 0: off */
  uint64_t write_timeout_ms;      /* 0: off */
  int line;                       /* of the listener's group */
  int name_line; /* of its name and bind settings, 0 when absent */
  int bind_line;
} weft__listener_conf_t;

typedef struct weft__config {
  int refs;     /* the engine and each listener built from it */
  char *origin; /* file name, or "<default>" */
  int workers;
  char **plugin_path;
  size_t npath;
  uint64_t shutdown_grace_ms;
  int64_t mailbox_size; /* messages each worker's mailbox holds */
  int log_level; /* -1 when not set */
  weft__listener_conf_t *listeners;
  size_t nlisteners;
} weft__config_t;

/*
 * Parses a configuration; every problem is logged as "origin:line: ..."
 * and counted.  Returns the config (or NULL) and sets *nerrors.  A config is
 * usable only when *nerrors is 0.
 */
weft__config_t *weft__config_read_file(const char *path, int *nerrors);
weft__config_t *weft__config_read_string(const char *text, const char *origin,
                                         int *nerrors);
void weft__config_free(weft__config_t *c);

/*
 * Adds libconfig setting m (a number, boolean or string) to o as an option
 * of that name at line.  WEFT_EINVAL for any other type, WEFT_ENOMEM.
 */
struct config_setting_t;
int weft__opts_add_setting(weft_opts_t *o, const struct config_setting_t *m,
                           int line);

/* Parses "ip:port", "[ip6]:port" or "unix:/path".  0 or WEFT_EINVAL. */
int weft__addr_parse(const char *s, weft__addr_t *a);
/*
 * Parses "name:port", a host name to resolve: letters, digits, '-', '.'
 * and '_', and a port from 1 to 65535 (host gets the name, port its
 * digits).  0 or WEFT_EINVAL.
 */
int weft__addr_name(const char *s, char *host, size_t hostlen, char port[8]);
/* Formats a socket address as "ip:port" or "[ip6]:port". */
void weft__addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* The configuration weftd runs without -c. */
extern const char weft__default_config[];

#endif /* WEFT_CORE_CONF_H */
