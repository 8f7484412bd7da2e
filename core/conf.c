/*
 * Reads weft.conf (libconfig syntax) into weft__config_t.  Every problem is
 * logged with file:line and counted, and parsing goes on so that one run
 * reports them all.  Nothing here binds or loads anything.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <uv.h>

#include <weft/error.h>
#include <weft/log.h>

#include "conf.h"
#include "opts_internal.h"

const char weft__default_config[] =
    "# weftd's embedded default: echo over two framings.\n"
    "listeners = (\n"
    "  { name = \"line-echo\"; bind = \"127.0.0.1:7000\";\n"
    "    codec = { name = \"line\"; }; handler = { name = \"echo\"; }; },\n"
    "  { name = \"length-echo\"; bind = \"127.0.0.1:7001\";\n"
    "    codec = { name = \"length\"; length_size = 4; };\n"
    "    handler = { name = \"echo\"; }; }\n"
    ");\n";

/* Timeouts longer than a week are a mistake, not a setting. */
#define WEFT__MAX_TIMEOUT_MS ((uint64_t)7 * 24 * 3600 * 1000)

typedef struct weft__cfg_parse {
  const char *origin;
  int nerrors;
} weft__cfg_parse_t;

static void weft__cfg_err(weft__cfg_parse_t *p, int line, const char *fmt, ...)
    WEFT_PRINTF(3, 4);

static void weft__cfg_err(weft__cfg_parse_t *p, int line, const char *fmt,
                          ...) {
  char msg[768];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  weft_log(WEFT_LOG_ERROR, "%s:%d: %s", p->origin, line, msg);
  p->nerrors++;
}

static int weft__line(const config_setting_t *s) {
  return (int)config_setting_source_line(s);
}

/* The settings each level knows: keep in step with the parsers below. */
static const char *const weft__top_keys[] = {"workers",        "plugin_path",
                                             "shutdown_grace", "mailbox_size",
                                             "log_level",      "listeners"};
static const char *const weft__listener_keys[] = {"name",
                                                  "bind",
                                                  "codec",
                                                  "handler",
                                                  "backlog",
                                                  "high_watermark",
                                                  "low_watermark",
                                                  "max_connections",
                                                  "max_connections_per_ip",
                                                  "idle_timeout",
                                                  "frame_timeout",
                                                  "write_timeout"};
#define WEFT__NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* An unknown key: a near one is suggested, or else all are listed. */
static void weft__cfg_unknown(weft__cfg_parse_t *p, const config_setting_t *s,
                              const char *what, const char *const *keys,
                              size_t nkeys) {
  const char *key = config_setting_name(s), *near;
  char known[512];

  near = weft__closest(key, keys, nkeys);
  if (near != NULL) {
    weft__cfg_err(p, weft__line(s), "unknown %s \"%s\"; did you mean \"%s\"?",
                  what, key, near);
    return;
  }
  weft__names_join(known, sizeof(known), keys, nkeys, " or ");
  weft__cfg_err(p, weft__line(s), "unknown %s \"%s\"; use %s", what, key,
                known);
}

/* Integer settings: reject floats, strings and out-of-range values. */
static int weft__cfg_int(weft__cfg_parse_t *p, const config_setting_t *s,
                         const char *what, int64_t min, int64_t max,
                         int64_t *out) {
  int64_t v;
  int t = config_setting_type(s);

  if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
    weft__cfg_err(p, weft__line(s), "%s must be an integer", what);
    return -1;
  }
  v = config_setting_get_int64(s);
  if (v < min || v > max) {
    weft__cfg_err(p, weft__line(s),
                  "%s = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                  what, v, min, max);
    return -1;
  }
  *out = v;
  return 0;
}

static const char *weft__cfg_str(weft__cfg_parse_t *p,
                                 const config_setting_t *s, const char *what) {
  if (config_setting_type(s) != CONFIG_TYPE_STRING) {
    weft__cfg_err(p, weft__line(s), "%s must be a string", what);
    return NULL;
  }
  return config_setting_get_string(s);
}

/* Sizes: an integer or a string such as "64k". */
static int weft__cfg_size(weft__cfg_parse_t *p, const config_setting_t *s,
                          const char *what, uint64_t min, uint64_t max,
                          uint64_t *out) {
  int64_t i;
  uint64_t v;
  const char *str;

  if (config_setting_type(s) == CONFIG_TYPE_STRING) {
    str = config_setting_get_string(s);
    if (weft__parse_size(str, &v) != 0) {
      weft__cfg_err(p, weft__line(s),
                    "%s = \"%s\" is not a size (like 512, 64k, 8M, 1G)", what,
                    str);
      return -1;
    }
  } else {
    if (weft__cfg_int(p, s, what, 0, INT64_MAX, &i) != 0)
      return -1;
    v = (uint64_t)i;
  }
  if (v < min || v > max) {
    weft__cfg_err(p, weft__line(s),
                  "%s = %" PRIu64 " is out of range [%" PRIu64 ", %" PRIu64 "]",
                  what, v, min, max);
    return -1;
  }
  *out = v;
  return 0;
}

static int weft__cfg_duration(weft__cfg_parse_t *p, const config_setting_t *s,
                              const char *what, uint64_t min_ms,
                              uint64_t max_ms, uint64_t *out) {
  int64_t i;
  uint64_t v;
  const char *str;

  if (config_setting_type(s) == CONFIG_TYPE_STRING) {
    str = config_setting_get_string(s);
    if (weft__parse_duration(str, &v) != 0) {
      weft__cfg_err(p, weft__line(s),
                    "%s = \"%s\" is not a duration (like 250ms, 30s, 5m, 1h)",
                    what, str);
      return -1;
    }
  } else {
    if (weft__cfg_int(p, s, what, 0, INT64_MAX / 1000, &i) != 0)
      return -1;
    v = (uint64_t)i * 1000;
  }
  if (v < min_ms || v > max_ms) {
    weft__cfg_err(p, weft__line(s),
                  "%s = %" PRIu64 "ms is out of range [%" PRIu64 "ms, %" PRIu64
                  "ms]",
                  what, v, min_ms, max_ms);
    return -1;
  }
  *out = v;
  return 0;
}

int weft__addr_parse(const char *s, weft__addr_t *a) {
  char host[256];
  const char *colon, *h, *port_s;
  size_t hlen;
  char *end;
  long port;

  memset(a, 0, sizeof(*a));
  if (strncmp(s, "unix:", 5) == 0) {
    if (s[5] == '\0' || strlen(s + 5) >= sizeof(a->unix_path))
      return WEFT_EINVAL;
    a->family = AF_UNIX;
    strcpy(a->unix_path, s + 5);
    return 0;
  }
  if (s[0] == '[') {
    colon = strstr(s, "]:");
    if (colon == NULL)
      return WEFT_EINVAL;
    h = s + 1;
    hlen = (size_t)(colon - h);
    port_s = colon + 2;
  } else {
    colon = strrchr(s, ':');
    if (colon == NULL)
      return WEFT_EINVAL;
    h = s;
    hlen = (size_t)(colon - s);
    port_s = colon + 1;
  }
  if (hlen == 0 || hlen >= sizeof(host) || *port_s == '\0')
    return WEFT_EINVAL;
  errno = 0;
  port = strtol(port_s, &end, 10);
  if (errno != 0 || *end != '\0' || port < 0 || port > 65535)
    return WEFT_EINVAL;
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  if (strcmp(host, "*") == 0)
    strcpy(host, "0.0.0.0");
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&a->ss) == 0 &&
      s[0] != '[') {
    a->family = AF_INET;
    return 0;
  }
  if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&a->ss) == 0) {
    a->family = AF_INET6;
    return 0;
  }
  return WEFT_EINVAL;
}

int weft__addr_name(const char *s, char *host, size_t hostlen, char port[8]) {
  const char *colon = strrchr(s, ':'), *p;
  size_t hlen;
  char *end;
  long n;

  if (colon == NULL || s[0] == '[' || strncmp(s, "unix:", 5) == 0)
    return WEFT_EINVAL;
  hlen = (size_t)(colon - s);
  if (hlen == 0 || hlen > 253 || hlen >= hostlen)
    return WEFT_EINVAL;
  /* Letters, digits, '-' and '.', as DNS names and /etc/hosts have them. */
  for (p = s; p < colon; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
      return WEFT_EINVAL;
  errno = 0;
  n = strtol(colon + 1, &end, 10);
  if (colon[1] < '0' || colon[1] > '9' || errno != 0 || *end != '\0' ||
      n < 1 || n > 65535)
    return WEFT_EINVAL;
  memcpy(host, s, hlen);
  host[hlen] = '\0';
  snprintf(port, 8, "%ld", n);
  return 0;
}

void weft__addr_format(const struct sockaddr *sa, char *buf, size_t len) {
  char ip[INET6_ADDRSTRLEN];

  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    uv_ip4_name(in, ip, sizeof(ip));
    snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    uv_ip6_name(in6, ip, sizeof(ip));
    snprintf(buf, len, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
  } else {
    snprintf(buf, len, "unix");
  }
}

/* codec = { name = "line"; max_length = "8k"; }: name/plugin plus options. */
static void weft__cfg_plugin(weft__cfg_parse_t *p, const config_setting_t *g,
                             const char *kind, weft__plugin_spec_t *spec) {
  const char *s;
  config_setting_t *m;
  int i, n, line, named = 0;
  const char *key;

  spec->line = weft__line(g);
  if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
    weft__cfg_err(p, spec->line,
                  "%s must be a group like { name = \"...\"; ... }", kind);
    return;
  }
  n = config_setting_length(g);
  for (i = 0; i < n; i++) {
    m = config_setting_get_elem(g, (unsigned)i);
    key = config_setting_name(m);
    if (strcmp(key, "name") == 0 || strcmp(key, "plugin") == 0) {
      named = 1;
      s = weft__cfg_str(p, m, key);
      if (s == NULL)
        continue;
      if (key[0] == 'n')
        spec->name = strdup(s);
      else
        spec->path = strdup(s);
    }
  }
  if (spec->name == NULL && spec->path == NULL) {
    if (!named) /* else its wrong type was reported */
      weft__cfg_err(p, spec->line,
                    "%s needs name = \"...\" (a plugin by name) or plugin = "
                    "\"path.so\"",
                    kind);
    return;
  }
  if (spec->name != NULL && spec->path != NULL) {
    weft__cfg_err(p, spec->line,
                  "%s has both name and plugin: give one of them", kind);
    return;
  }
  spec->opts = weft__opts_new(kind, spec->name ? spec->name : spec->path,
                              p->origin);
  if (spec->opts == NULL) {
    weft__cfg_err(p, spec->line, "out of memory");
    return;
  }
  weft__opts_set_line(spec->opts, spec->line);
  /* Everything else is an option for the plugin to accept or refuse. */
  for (i = 0; i < n; i++) {
    m = config_setting_get_elem(g, (unsigned)i);
    key = config_setting_name(m);
    line = weft__line(m);
    if (strcmp(key, "name") == 0 || strcmp(key, "plugin") == 0)
      continue;
    if (weft__opts_add_setting(spec->opts, m, line) == WEFT_EINVAL)
      weft__cfg_err(p, line,
                    "%s option \"%s\" must be a number, a boolean or a string",
                    kind, key);
  }
}

int weft__opts_add_setting(weft_opts_t *o, const struct config_setting_t *m,
                           int line) {
  const char *key = config_setting_name(m);

  switch (config_setting_type(m)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    return weft__opts_add_int(o, key, config_setting_get_int64(m), line);
  case CONFIG_TYPE_FLOAT:
    return weft__opts_add_float(o, key, config_setting_get_float(m), line);
  case CONFIG_TYPE_BOOL:
    return weft__opts_add_bool(o, key, config_setting_get_bool(m), line);
  case CONFIG_TYPE_STRING:
    return weft__opts_add_str(o, key, config_setting_get_string(m), line);
  default:
    return WEFT_EINVAL;
  }
}

static int weft__name_ok(const char *s) {
  if (*s == '\0')
    return 0;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
      return 0;
  return 1;
}

static void weft__cfg_listener(weft__cfg_parse_t *p, const config_setting_t *g,
                               weft__listener_conf_t *l) {
  config_setting_t *m;
  const char *key, *s;
  int i, n, have_codec = 0, have_handler = 0, have_bind = 0, wm_line = 0;
  int64_t v;

  l->line = weft__line(g);
  l->backlog = 511;
  l->high_watermark = 64 * 1024;
  l->low_watermark = 32 * 1024;
  l->idle_timeout_ms = 300 * 1000;
  l->frame_timeout_ms = 30 * 1000;
  l->write_timeout_ms = 60 * 1000;
  if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
    weft__cfg_err(p, l->line, "each listener must be a group { ... }");
    return;
  }
  n = config_setting_length(g);
  for (i = 0; i < n; i++) {
    m = config_setting_get_elem(g, (unsigned)i);
    key = config_setting_name(m);
    if (strcmp(key, "name") == 0) {
      l->name_line = weft__line(m);
      if ((s = weft__cfg_str(p, m, "name")) == NULL)
        continue;
      if (!weft__name_ok(s))
        weft__cfg_err(p, weft__line(m),
                      "listener name \"%s\" must be letters, digits, '-', '_' "
                      "or '.'",
                      s);
      else
        l->name = strdup(s);
    } else if (strcmp(key, "bind") == 0) {
      have_bind = 1;
      l->bind_line = weft__line(m);
      if ((s = weft__cfg_str(p, m, "bind")) == NULL)
        continue;
      l->bind = strdup(s);
      if (weft__addr_parse(s, &l->addr) != 0)
        weft__cfg_err(p, weft__line(m),
                      "bind = \"%s\" is not an address: use \"IP:PORT\", "
                      "\"[IPv6]:PORT\" or \"unix:/path\"",
                      s);
    } else if (strcmp(key, "codec") == 0) {
      have_codec = 1;
      weft__cfg_plugin(p, m, "codec", &l->codec);
    } else if (strcmp(key, "handler") == 0) {
      have_handler = 1;
      weft__cfg_plugin(p, m, "handler", &l->handler);
    } else if (strcmp(key, "backlog") == 0) {
      if (weft__cfg_int(p, m, "backlog", 1, 65535, &v) == 0)
        l->backlog = (int)v;
    } else if (strcmp(key, "high_watermark") == 0) {
      wm_line = weft__line(m);
      weft__cfg_size(p, m, "high_watermark", 1, (uint64_t)1 << 32,
                     &l->high_watermark);
    } else if (strcmp(key, "low_watermark") == 0) {
      wm_line = weft__line(m);
      weft__cfg_size(p, m, "low_watermark", 0, (uint64_t)1 << 32,
                     &l->low_watermark);
    } else if (strcmp(key, "max_connections") == 0) {
      weft__cfg_int(p, m, "max_connections", 0, 10000000, &l->max_connections);
    } else if (strcmp(key, "max_connections_per_ip") == 0) {
      weft__cfg_int(p, m, "max_connections_per_ip", 0, 10000000,
                    &l->max_connections_per_ip);
    } else if (strcmp(key, "idle_timeout") == 0) {
      weft__cfg_duration(p, m, "idle_timeout", 0, WEFT__MAX_TIMEOUT_MS,
                         &l->idle_timeout_ms);
    } else if (strcmp(key, "frame_timeout") == 0) {
      weft__cfg_duration(p, m, "frame_timeout", 0, WEFT__MAX_TIMEOUT_MS,
                         &l->frame_timeout_ms);
    } else if (strcmp(key, "write_timeout") == 0) {
      weft__cfg_duration(p, m, "write_timeout", 0, WEFT__MAX_TIMEOUT_MS,
                         &l->write_timeout_ms);
    } else {
      weft__cfg_unknown(p, m, "listener setting", weft__listener_keys,
                        WEFT__NKEYS(weft__listener_keys));
    }
  }
  /* A key of the wrong type was reported already: not again as missing. */
  if (l->name_line == 0)
    weft__cfg_err(p, l->line, "listener needs name = \"...\"");
  if (!have_bind)
    weft__cfg_err(p, l->line, "listener %s%s%sneeds bind = \"IP:PORT\"",
                  l->name ? "\"" : "", l->name ? l->name : "",
                  l->name ? "\" " : "");
  if (!have_codec)
    weft__cfg_err(p, l->line, "listener needs codec = { name = \"...\"; }");
  if (!have_handler)
    weft__cfg_err(p, l->line, "listener needs handler = { name = \"...\"; }");
  if (l->low_watermark >= l->high_watermark)
    weft__cfg_err(p, wm_line ? wm_line : l->line,
                  "low_watermark (%" PRIu64 ") must be below high_watermark "
                  "(%" PRIu64 "); lower the one or raise the other",
                  l->low_watermark, l->high_watermark);
}

static const char *const weft__level_names[] = {"debug", "info", "warn",
                                                "error"};

static weft__config_t *weft__config_build(config_t *cfg, weft__cfg_parse_t *p) {
  weft__config_t *c;
  config_setting_t *root, *m, *e;
  const char *key, *s;
  int i, j, n, k, seen_listeners = 0;
  int64_t v;

  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return NULL;
  c->origin = strdup(p->origin);
  c->workers = (int)uv_available_parallelism();
  c->shutdown_grace_ms = 10000;
  c->mailbox_size = 4096;
  c->log_level = -1;
  root = config_root_setting(cfg);
  n = config_setting_length(root);
  for (i = 0; i < n; i++) {
    m = config_setting_get_elem(root, (unsigned)i);
    key = config_setting_name(m);
    if (strcmp(key, "workers") == 0) {
      if (weft__cfg_int(p, m, "workers", 1, 256, &v) == 0)
        c->workers = (int)v;
    } else if (strcmp(key, "mailbox_size") == 0) {
      weft__cfg_int(p, m, "mailbox_size", 1, 1 << 24, &c->mailbox_size);
    } else if (strcmp(key, "shutdown_grace") == 0) {
      weft__cfg_duration(p, m, "shutdown_grace", 0, 3600 * 1000,
                         &c->shutdown_grace_ms);
    } else if (strcmp(key, "log_level") == 0) {
      if ((s = weft__cfg_str(p, m, "log_level")) == NULL)
        continue;
      for (j = 0; j < 4; j++)
        if (strcmp(s, weft__level_names[j]) == 0)
          c->log_level = j;
      if (c->log_level < 0)
        weft__cfg_err(p, weft__line(m),
                      "log_level = \"%s\": use debug, info, warn or error", s);
    } else if (strcmp(key, "plugin_path") == 0) {
      if (config_setting_type(m) != CONFIG_TYPE_ARRAY &&
          config_setting_type(m) != CONFIG_TYPE_LIST) {
        weft__cfg_err(p, weft__line(m),
                      "plugin_path must be a list of directories [ \"...\" ]");
        continue;
      }
      k = config_setting_length(m);
      c->plugin_path = calloc((size_t)k + 1, sizeof(char *));
      for (j = 0; c->plugin_path && j < k; j++) {
        e = config_setting_get_elem(m, (unsigned)j);
        if ((s = weft__cfg_str(p, e, "plugin_path entry")) != NULL)
          c->plugin_path[c->npath++] = strdup(s);
      }
    } else if (strcmp(key, "listeners") == 0) {
      seen_listeners = 1;
      if (config_setting_type(m) != CONFIG_TYPE_LIST) {
        weft__cfg_err(p, weft__line(m),
                      "listeners must be a list ( { ... }, { ... } )");
        continue;
      }
      k = config_setting_length(m);
      c->listeners = calloc((size_t)k + 1, sizeof(*c->listeners));
      if (c->listeners == NULL)
        continue;
      for (j = 0; j < k; j++)
        weft__cfg_listener(p, config_setting_get_elem(m, (unsigned)j),
                           &c->listeners[c->nlisteners++]);
      if (k == 0)
        weft__cfg_err(p, weft__line(m), "listeners is empty");
    } else {
      weft__cfg_unknown(p, m, "setting", weft__top_keys,
                        WEFT__NKEYS(weft__top_keys));
    }
  }
  if (!seen_listeners)
    weft__cfg_err(p, 1, "no listeners = ( ... ) in the configuration");
  /* Names and addresses must be unique: two listeners cannot share a port. */
  for (i = 0; i < (int)c->nlisteners; i++)
    for (j = 0; j < i; j++) {
      weft__listener_conf_t *a = &c->listeners[i], *b = &c->listeners[j];
      if (a->name && b->name && strcmp(a->name, b->name) == 0)
        weft__cfg_err(p, a->name_line,
                      "listener name \"%s\" is already used at line %d; "
                      "give each listener a name of its own",
                      a->name, b->name_line);
      /* Port 0 is a new port for each listener: never a clash. */
      if (a->bind && b->bind && strcmp(a->bind, b->bind) == 0 &&
          !(a->addr.family != AF_UNIX && strlen(a->bind) >= 2 &&
            strcmp(a->bind + strlen(a->bind) - 2, ":0") == 0))
        weft__cfg_err(p, a->bind_line,
                      "bind = \"%s\" is already used at line %d; give each "
                      "listener an address of its own (or port 0)",
                      a->bind, b->bind_line);
    }
  return c;
}

static weft__config_t *weft__config_read(config_t *cfg, int ok,
                                         const char *origin, int *nerrors) {
  weft__cfg_parse_t p = {origin, 0};
  weft__config_t *c = NULL;

  if (!ok) {
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
      weft_log(WEFT_LOG_ERROR, "%s: cannot read: %s", origin, strerror(errno));
    else /* libconfig stops at the first: the rest is not read at all */
      weft_log(WEFT_LOG_ERROR,
               "%s:%d: %s; fix it and check again (reading stops at the "
               "first syntax error)",
               config_error_file(cfg) ? config_error_file(cfg) : origin,
               config_error_line(cfg), config_error_text(cfg));
    p.nerrors++;
  } else {
    c = weft__config_build(cfg, &p);
    if (c == NULL) {
      weft_log(WEFT_LOG_ERROR, "%s: out of memory", origin);
      p.nerrors++;
    }
  }
  config_destroy(cfg);
  *nerrors = p.nerrors;
  return c;
}

weft__config_t *weft__config_read_file(const char *path, int *nerrors) {
  config_t cfg;
  int ok;

  config_init(&cfg);
  errno = 0;
  ok = config_read_file(&cfg, path) == CONFIG_TRUE;
  return weft__config_read(&cfg, ok, path, nerrors);
}

weft__config_t *weft__config_read_string(const char *text, const char *origin,
                                         int *nerrors) {
  config_t cfg;
  int ok;

  config_init(&cfg);
  ok = config_read_string(&cfg, text) == CONFIG_TRUE;
  return weft__config_read(&cfg, ok, origin, nerrors);
}

static void weft__spec_free(weft__plugin_spec_t *s) {
  free(s->name);
  free(s->path);
  weft__opts_free(s->opts);
}

void weft__config_free(weft__config_t *c) {
  size_t i;

  if (c == NULL)
    return;
  for (i = 0; i < c->npath; i++)
    free(c->plugin_path[i]);
  free(c->plugin_path);
  for (i = 0; i < c->nlisteners; i++) {
    free(c->listeners[i].name);
    free(c->listeners[i].bind);
    weft__spec_free(&c->listeners[i].codec);
    weft__spec_free(&c->listeners[i].handler);
  }
  free(c->listeners);
  free(c->origin);
  free(c);
}
