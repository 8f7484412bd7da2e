/*
 * In-memory connections (weft_embed): one connection on a stand-in worker
 * and listener of a private engine, with a transport of two byte queues in
 * place of a socket.  Everything between the bytes and the plugins is the
 * engine's own code (framer, conn.c, conn_write.c, timer.c, mailbox.c); the
 * connection carries WEFT__C_MEMORY, and the few places that would touch a
 * socket hand bytes to this file instead (weft__embed_write,
 * weft__embed_unread).  The worker's libuv loop is initialised, for its
 * timer and async handles, but never run: time stands still and deadlines
 * pass only when a test fires them, and the test's own calls play the
 * event loop (weft__embed_run).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "internal.h"

#ifndef WEFT_PLUGINDIR
#define WEFT_PLUGINDIR "/usr/local/lib/weft"
#endif

/* Rounds of pending work one call runs before it leaves the rest. */
#define WEFT__EMBED_ROUNDS 1024

struct weft_embed {
  weft__worker_t w; /* the stand-in worker: a loop that never runs */
  int w_ready;
  weft_engine_t *e; /* config, plugins, the listener, stats */
  weft__listener_t *l;
  weft_handler_vtable_t hvt; /* the handler's, with on_close noted */
  void (*on_close)(weft_conn_t *c, int reason, const char *detail);
  weft_conn_t *c;
  weft__buf_t in; /* fed and not read: the socket's receive queue */
  int peer_eof;   /* 1: FIN after `in`; 2: delivered */
  int peer_reading;
  size_t window;   /* bytes a non-reading peer still takes */
  weft__buf_t out; /* read by the peer, not taken by the test */
  /* The peer's side of the codec, for feed_frame and read_frame. */
  weft_codec_ctx_t peer;
  int peer_made;
  size_t scanned;
  weft__buf_t frame; /* the frame read_frame returned last */
  int closed;        /* on_close ran */
  int reason;
  char *detail;
};

static const uint8_t weft__embed_empty[1];

static struct weft_embed *weft__embed_of(const weft_conn_t *c) {
  return WEFT__CONTAINER_OF(c->wl->w, struct weft_embed, w);
}

/* ---- the transport, called by conn.c and conn_write.c ------------------ */

int weft__embed_write(weft_conn_t *c, size_t *written) {
  struct weft_embed *em = weft__embed_of(c);
  size_t n = c->ws != NULL ? c->ws->wq.len : 0;

  *written = 0;
  if (!em->peer_reading && n > em->window)
    n = em->window;
  if (n == 0)
    return 0;
  if (weft__buf_append(&em->out, c->ws->wq.base, n) != 0)
    return UV_ENOMEM;
  weft__buf_consume(&c->ws->wq, n);
  if (!em->peer_reading)
    em->window -= n;
  *written = n;
  return 0;
}

size_t weft__embed_unread(const weft_conn_t *c) {
  size_t n = weft__embed_of(c)->in.len;
  return n < INT_MAX ? n : INT_MAX;
}

/* ---- the event loop, played by each call ------------------------------ */

/* One read's worth of fed bytes, or the FIN, if the connection reads. */
static int weft__embed_read(struct weft_embed *em) {
  weft_conn_t *c = em->c;
  uint8_t *base = NULL;
  uv_buf_t buf;
  size_t n;

  if (c == NULL || !(c->flags & WEFT__C_READING))
    return 0;
  if (em->in.len > 0) {
    /* Where a socket read would land: the framer's tail or the scratch. */
    n = weft__framer_read_buf(&c->fr, em->w.scratch, WEFT__SCRATCH_SIZE, &base);
    if (n == 0) {
      buf = uv_buf_init(NULL, 0);
      weft__conn_read(&c->h.stream, UV_ENOBUFS, &buf);
      return 1;
    }
    if (n > em->in.len)
      n = em->in.len;
    memcpy(base, em->in.base, n);
    weft__buf_consume(&em->in, n);
    if (em->in.len == 0)
      weft__buf_free(&em->in);
    buf = uv_buf_init((char *)base, (unsigned)n);
    weft__conn_read(&c->h.stream, (ssize_t)n, &buf);
    return 1;
  }
  if (em->peer_eof == 1) {
    em->peer_eof = 2;
    buf = uv_buf_init(NULL, 0);
    weft__conn_read(&c->h.stream, UV_EOF, &buf);
    return 1;
  }
  return 0;
}

static size_t weft__embed_mail(weft__worker_t *w) {
  size_t n;

  uv_mutex_lock(&w->mbox_lock);
  n = w->mbox_len;
  uv_mutex_unlock(&w->mbox_lock);
  return n;
}

/* Reads, then the mailbox, then the flush: one loop iteration's order. */
static int weft__embed_pump(struct weft_embed *em) {
  weft__worker_t *w = &em->w;
  int rounds, busy;

  if (!em->w_ready)
    return 0;
  for (rounds = 0; rounds < WEFT__EMBED_ROUNDS; rounds++) {
    busy = weft__embed_read(em);
    if (weft__embed_mail(w) > 0) {
      weft__mailbox_drain(w);
      busy = 1;
    }
    if (w->ndirty > 0) {
      weft__worker_flush_all(w);
      busy = 1;
    }
    if (em->c != NULL && (em->c->flags & WEFT__C_DIRTY)) {
      weft__conn_flush(em->c); /* the dirty list had no room for it */
      busy = 1;
    }
    if (!busy)
      return 0;
  }
  return 1;
}

/* 1 when the connection still takes input and output. */
static int weft__embed_open_now(const struct weft_embed *em) {
  return em->c != NULL && !(em->c->flags & (WEFT__C_CLOSING | WEFT__C_CLOSED));
}

static void weft__embed_on_close(weft_conn_t *c, int reason,
                                 const char *detail) {
  struct weft_embed *em = weft__embed_of(c);

  em->closed = 1;
  em->reason = reason;
  free(em->detail);
  em->detail = detail != NULL ? strdup(detail) : NULL;
  if (em->on_close != NULL)
    em->on_close(c, reason, detail);
}

/* ---- configuration, parsed by conf.c ---------------------------------- */

static int weft__embed_quote(weft__buf_t *b, const char *s) {
  int r = weft__buf_append(b, "\"", 1);

  for (; *s != '\0' && r == 0; s++) {
    if (*s == '"' || *s == '\\')
      r = weft__buf_append(b, "\\", 1);
    if (r == 0)
      r = weft__buf_append(b, s, 1);
  }
  return r != 0 ? r : weft__buf_append(b, "\"", 1);
}

static int weft__embed_puts(weft__buf_t *b, const char *s) {
  return weft__buf_append(b, s, strlen(s));
}

/* Keys of a listener block that mean nothing without a socket, or that
 * name the plugins, which weft_embed_new takes as arguments. */
static const char *const weft__embed_refused[] = {
    "bind",    "codec",           "handler",
    "backlog", "max_connections", "max_connections_per_ip",
    NULL};

/*
 * Checks text on its own first: a syntax error is reported at its own
 * line, and a stray brace cannot reach outside the block it goes in.
 * kind NULL: listener settings.  Sets *has_name.
 */
static int weft__embed_precheck(const char *origin, const char *kind,
                                const char *text, int *has_name) {
  config_setting_t *root, *m;
  const char *key;
  config_t cf;
  int i, n, problems = 0;

  *has_name = 0;
  config_init(&cf);
  if (config_read_string(&cf, text) != CONFIG_TRUE) {
    weft_log(WEFT_LOG_ERROR, "%s:%d: %s", origin, config_error_line(&cf),
             config_error_text(&cf));
    config_destroy(&cf);
    return 1;
  }
  root = config_root_setting(&cf);
  n = config_setting_length(root);
  for (i = 0; i < n; i++) {
    m = config_setting_get_elem(root, (unsigned)i);
    key = config_setting_name(m);
    if (strcmp(key, "name") == 0)
      *has_name = 1;
    if (kind != NULL &&
        (strcmp(key, "name") == 0 || strcmp(key, "plugin") == 0)) {
      weft_log(WEFT_LOG_ERROR,
               "%s:%d: \"%s\" names the %s in weft.conf: here the %s is an "
               "argument of weft_embed_new",
               origin, config_setting_source_line(m), key, kind, kind);
      problems++;
    } else if (kind == NULL) {
      const char *const *r;
      for (r = weft__embed_refused; *r != NULL; r++)
        if (strcmp(key, *r) == 0) {
          weft_log(WEFT_LOG_ERROR,
                   "%s:%d: \"%s\" is not a setting of an in-memory "
                   "connection",
                   origin, config_setting_source_line(m), key);
          problems++;
        }
    }
  }
  config_destroy(&cf);
  return problems;
}

/*
 * Parses text as weft.conf would inside a listener block (kind NULL) or
 * inside its codec or handler group (kind "codec"/"handler", the plugin
 * given by name or path), so that every check and message is conf.c's.
 * The text starts on line 1 of `origin`, so lines in messages are its own.
 */
static weft__config_t *weft__embed_parse(const char *origin, const char *kind,
                                         const char *name, const char *path,
                                         const char *text) {
  weft__buf_t b = {NULL, 0, 0};
  weft__config_t *c = NULL;
  int r, has_name, nerr = 0;

  if (text == NULL)
    text = "";
  if (weft__embed_precheck(origin, kind, text, &has_name) != 0)
    return NULL;
  r = weft__embed_puts(&b, "listeners = ( { bind = \"127.0.0.1:0\"; ");
  if (r == 0 && !has_name)
    r = weft__embed_puts(&b, "name = \"embed\"; ");
  if (r == 0 && (kind == NULL || strcmp(kind, "codec") != 0))
    r = weft__embed_puts(&b, "codec = { name = \"none\"; }; ");
  if (r == 0 && (kind == NULL || strcmp(kind, "handler") != 0))
    r = weft__embed_puts(&b, "handler = { name = \"none\"; }; ");
  if (r == 0 && kind != NULL) {
    r = weft__embed_puts(&b, kind);
    if (r == 0)
      r = weft__embed_puts(&b,
                           path != NULL ? " = { plugin = " : " = { name = ");
    if (r == 0)
      r = weft__embed_quote(&b, path != NULL ? path : name);
    if (r == 0)
      r = weft__embed_puts(&b, "; ");
  }
  if (r == 0)
    r = weft__embed_puts(&b, text);
  if (r == 0)
    r = weft__embed_puts(&b, kind != NULL ? "\n}; } );\n" : "\n} );\n");
  if (r == 0)
    r = weft__buf_append(&b, "", 1);
  if (r != 0) {
    weft_log(WEFT_LOG_ERROR, "%s: out of memory", origin);
  } else {
    c = weft__config_read_string((const char *)b.base, origin, &nerr);
    if (nerr > 0 || c == NULL || c->nlisteners != 1) {
      weft__config_free(c);
      c = NULL;
    }
  }
  weft__buf_free(&b);
  return c;
}

/* Moves a plugin's options, parsed on their own, into the listener. */
static int weft__embed_opts(weft__config_t *cfg, const char *kind,
                            const char *name, const char *path,
                            const char *text) {
  weft__plugin_spec_t *to, *from, tmp;
  char origin[32];
  weft__config_t *c;

  snprintf(origin, sizeof(origin), "%s options", kind);
  c = weft__embed_parse(origin, kind, name, path, text);
  if (c == NULL)
    return WEFT_ECONFIG;
  to = kind[0] == 'c' ? &cfg->listeners[0].codec : &cfg->listeners[0].handler;
  from = kind[0] == 'c' ? &c->listeners[0].codec : &c->listeners[0].handler;
  tmp = *to;
  *to = *from;
  *from = tmp;
  weft__config_free(c);
  return 0;
}

/* ":"-separated directories into the configuration's plugin_path. */
static int weft__embed_path(weft__config_t *cfg, const char *dirs) {
  const char *p, *end;
  size_t n = 1;

  if (dirs == NULL || *dirs == '\0')
    return 0;
  for (p = dirs; *p != '\0'; p++)
    n += *p == ':';
  cfg->plugin_path = calloc(n + 1, sizeof(char *));
  if (cfg->plugin_path == NULL)
    return WEFT_ENOMEM;
  for (p = dirs; *p != '\0'; p = *end ? end + 1 : end) {
    end = strchr(p, ':');
    if (end == NULL)
      end = p + strlen(p);
    if (end == p)
      continue;
    cfg->plugin_path[cfg->npath] = strndup(p, (size_t)(end - p));
    if (cfg->plugin_path[cfg->npath] == NULL)
      return WEFT_ENOMEM;
    cfg->npath++;
  }
  return 0;
}

/* ---- building one ----------------------------------------------------- */

/* The private engine and its one listener, without plugins yet. */
static int weft__embed_alloc(struct weft_embed **out, const char *plugin_path,
                             int by_name) {
  struct weft_embed *em;
  weft__listener_t *l;
  weft__config_t *cfg;
  int r;

  *out = NULL;
  em = calloc(1, sizeof(*em));
  if (em == NULL)
    return WEFT_ENOMEM;
  *out = em;
  em->peer_reading = 1;
  if ((r = weft_engine_new(&em->e)) != 0)
    return r;
  cfg = weft__embed_parse("weft_embed", NULL, NULL, NULL, "");
  if (cfg == NULL)
    return WEFT_ENOMEM;
  cfg->refs = 1; /* the engine's */
  em->e->config = cfg;
  em->e->grace_ms = cfg->shutdown_grace_ms;
  if (by_name) {
    if ((r = weft__embed_path(cfg, plugin_path)) != 0)
      return r;
    if (weft__plugins_init(&em->e->plugins,
                           (const char *const *)cfg->plugin_path, cfg->npath,
                           WEFT_PLUGINDIR) != 0)
      return WEFT_EPLUGIN;
    em->e->plugins_ready = 1;
  } else {
    weft__list_init(&em->e->plugins.loaded);
  }
  l = calloc(1, sizeof(*l));
  if (l == NULL)
    return WEFT_ENOMEM;
  weft__list_init(&l->node);
  l->cfg = weft__config_ref(cfg);
  l->conf = &cfg->listeners[0];
  l->unix_fd = -1;
  l->nworkers = 1;
  /* In the engine's list from now on: weft_engine_free() frees it. */
  weft__list_push(&em->e->active, &l->node);
  em->e->nactive = 1;
  em->l = l;
  l->wl = calloc(1, sizeof(*l->wl));
  if (l->wl == NULL)
    return WEFT_ENOMEM;
  l->wl->l = l;
  l->wl->fd = -1;
  weft__list_init(&l->wl->clients);
  l->wl->w = &em->w;
  /* The worker, as the engine has it: one, and this is it. */
  em->e->workers = &em->w;
  em->e->nworkers = 1;
  if (weft__worker_init(&em->w, em->e, 0) != 0)
    return WEFT_ENOMEM;
  em->w_ready = 1;
  return 0;
}

/* The instances, as the engine creates them, and the peer's codec side. */
static int weft__embed_instances(struct weft_embed *em) {
  weft__listener_t *l = em->l;
  const weft__listener_conf_t *lc = l->conf;
  weft__wlistener_t *wl = l->wl;
  int problems, r;

  wl->cvt = &l->codec->codec;
  em->hvt = l->handler->handler;
  em->on_close = em->hvt.on_close;
  em->hvt.on_close = weft__embed_on_close;
  wl->hvt = &em->hvt;
  problems = weft__lsn_create(em->e, wl, &lc->codec, l->codec,
                              wl->cvt->create, &wl->cstate, &wl->cstate_made, 1);
  problems += weft__lsn_create(em->e, wl, &lc->handler, l->handler,
                               wl->hvt->create, &wl->hstate, &wl->hstate_made,
                               1);
  if (problems > 0)
    return WEFT_ECONFIG;
  em->peer.vt = wl->cvt;
  em->peer.state = wl->cstate;
  if (wl->cvt->conn_init != NULL) {
    r = wl->cvt->conn_init(wl->cstate, &em->peer.conn_state);
    if (r != 0) {
      weft_log(WEFT_LOG_ERROR,
               "weft_embed: codec \"%s\" conn_init failed for the peer: %s",
               l->codec->name, weft_strerror(r));
      return r < 0 ? r : WEFT_EPLUGIN;
    }
    em->peer_made = 1;
  }
  return 0;
}

/* The connection: weft__conn_adopt's steps, with no socket. */
static int weft__embed_connect(struct weft_embed *em) {
  weft__wlistener_t *wl = em->l->wl;
  void *cs = NULL;
  weft_conn_t *c;
  int r;

  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return WEFT_ENOMEM;
  c->flags = WEFT__C_MEMORY;
  __atomic_add_fetch(&wl->l->nconns, 1, __ATOMIC_RELAXED);
  weft__conn_register(c, wl, NULL);
  em->c = c;
  if (wl->cvt->conn_init != NULL &&
      (r = wl->cvt->conn_init(wl->cstate, &cs)) != 0) {
    weft_log(WEFT_LOG_ERROR,
             "listener \"%s\" conn from %s: codec refused it: %s",
             wl->l->conf->name, weft_conn_peer(c), weft_strerror(r));
    weft__conn_close(c, r, "refused by the codec", 1);
    return r < 0 ? r : WEFT_EPLUGIN;
  }
  c->fr.ctx.conn_state = cs;
  c->flags |= WEFT__C_OPEN;
  if (wl->hvt->on_open != NULL && (r = wl->hvt->on_open(c)) != 0) {
    weft__conn_close(c, r < 0 ? r : WEFT_EHANDLER, "refused by the handler", 0);
    return 0;
  }
  if (c->flags & WEFT__C_CLOSING)
    return 0;
  c->flags |= WEFT__C_READING;
  weft__timer_schedule(c);
  return 0;
}

static int weft__embed_finish(weft_embed_t **out, struct weft_embed *em,
                              int r) {
  if (r == 0)
    r = weft__embed_instances(em);
  if (r == 0)
    r = weft__embed_connect(em);
  if (r != 0) {
    weft_embed_free(em);
    return r;
  }
  weft__embed_pump(em);
  *out = em;
  return 0;
}

int weft_embed_new(weft_embed_t **out, const weft_plugin_t *codec,
                   const char *codec_opts, const weft_plugin_t *handler,
                   const char *handler_opts) {
  struct weft_embed *em;
  weft__plugins_t *reg;
  char err[1024];
  int r;

  if (out == NULL)
    return WEFT_EINVAL;
  *out = NULL;
  r = weft__embed_alloc(&em, NULL, 0);
  if (r != 0)
    return weft__embed_finish(out, em, r);
  reg = &em->e->plugins;
  em->l->codec = weft__plugin_from_desc(reg, codec, "weft_embed: the codec",
                                        WEFT_PLUGIN_CODEC, err, sizeof(err));
  if (em->l->codec == NULL)
    weft_log(WEFT_LOG_ERROR, "%s", err);
  em->l->handler =
      weft__plugin_from_desc(reg, handler, "weft_embed: the handler",
                             WEFT_PLUGIN_HANDLER, err, sizeof(err));
  if (em->l->handler == NULL)
    weft_log(WEFT_LOG_ERROR, "%s", err);
  if (em->l->codec == NULL || em->l->handler == NULL)
    return weft__embed_finish(out, em, WEFT_EPLUGIN);
  /* Options are checked for both, so one run reports every problem. */
  r = weft__embed_opts(em->e->config, "codec", codec->name, NULL, codec_opts);
  if (weft__embed_opts(em->e->config, "handler", handler->name, NULL,
                       handler_opts) != 0)
    r = WEFT_ECONFIG;
  return weft__embed_finish(out, em, r);
}

/* Loads a plugin by name, or by path when the name has a '/'. */
static weft__plugin_t *weft__embed_load(struct weft_embed *em, const char *name,
                                        uint32_t kind) {
  char err[2048];
  weft__plugin_t *p;

  if (name == NULL) {
    weft_log(WEFT_LOG_ERROR, "weft_embed: no %s named",
             weft_plugin_kind_name(kind));
    return NULL;
  }
  p = weft__plugin_load(&em->e->plugins, strchr(name, '/') ? NULL : name,
                        strchr(name, '/') ? name : NULL, kind, err,
                        sizeof(err));
  if (p == NULL)
    weft_log(WEFT_LOG_ERROR, "weft_embed: %s", err);
  return p;
}

int weft_embed_new_named(weft_embed_t **out, const char *codec,
                         const char *codec_opts, const char *handler,
                         const char *handler_opts, const char *plugin_path) {
  struct weft_embed *em;
  int r;

  if (out == NULL)
    return WEFT_EINVAL;
  *out = NULL;
  if (plugin_path == NULL)
    plugin_path = getenv("WEFT_PLUGIN_PATH");
  r = weft__embed_alloc(&em, plugin_path, 1);
  if (r != 0)
    return weft__embed_finish(out, em, r);
  em->l->codec = weft__embed_load(em, codec, WEFT_PLUGIN_CODEC);
  em->l->handler = weft__embed_load(em, handler, WEFT_PLUGIN_HANDLER);
  if (em->l->codec == NULL || em->l->handler == NULL)
    return weft__embed_finish(out, em, WEFT_EPLUGIN);
  r = weft__embed_opts(em->e->config, "codec",
                       strchr(codec, '/') ? NULL : codec,
                       strchr(codec, '/') ? codec : NULL, codec_opts);
  if (weft__embed_opts(
          em->e->config, "handler", strchr(handler, '/') ? NULL : handler,
          strchr(handler, '/') ? handler : NULL, handler_opts) != 0)
    r = WEFT_ECONFIG;
  return weft__embed_finish(out, em, r);
}

const weft_plugin_t *weft_embed_builtin(const char *name) {
  return weft__plugin_builtin(name);
}

void weft_embed_free(weft_embed_t *em) {
  weft_conn_t *c;

  if (em == NULL)
    return;
  c = em->c;
  if (c != NULL) {
    if (!(c->flags & WEFT__C_CLOSED))
      weft__conn_close(c, WEFT_ESHUTDOWN, "weft_embed_free: forced stop", 1);
    weft__conn_release(c);
    em->c = NULL;
  }
  if (em->peer_made && em->peer.vt->conn_free != NULL)
    em->peer.vt->conn_free(em->peer.state, em->peer.conn_state);
  if (em->w_ready)
    weft__worker_teardown(&em->w); /* frees messages still queued */
  if (em->e != NULL) {
    em->e->workers = NULL;
    em->e->nworkers = 0;
    weft_engine_free(em->e); /* the listener, its instances, the plugins */
  }
  weft__buf_free(&em->in);
  weft__buf_free(&em->out);
  weft__buf_free(&em->frame);
  free(em->detail);
  free(em);
}

int weft_embed_settings(weft_embed_t *em, const char *settings) {
  weft__listener_conf_t *to = &em->e->config->listeners[0];
  weft__listener_conf_t *from;
  weft__config_t *c;
  char *name;

  c = weft__embed_parse("weft_embed_settings", NULL, NULL, NULL, settings);
  if (c == NULL)
    return WEFT_ECONFIG;
  from = &c->listeners[0];
  name = to->name; /* swapped: freed with c */
  to->name = from->name;
  from->name = name;
  to->high_watermark = from->high_watermark;
  to->low_watermark = from->low_watermark;
  to->idle_timeout_ms = from->idle_timeout_ms;
  to->frame_timeout_ms = from->frame_timeout_ms;
  to->write_timeout_ms = from->write_timeout_ms;
  weft__config_free(c);
  return 0;
}

weft_conn_t *weft_embed_conn(const weft_embed_t *em) {
  return em->c;
}

/* ---- the peer's side --------------------------------------------------- */

int weft_embed_feed(weft_embed_t *em, const void *data, size_t len) {
  weft__embed_pump(em);
  if (!weft__embed_open_now(em))
    return WEFT_ECLOSED;
  if (em->peer_eof)
    return WEFT_EINVAL;
  if (weft__buf_append(&em->in, data, len) != 0)
    return WEFT_ENOMEM;
  weft__embed_pump(em);
  return 0;
}

int weft_embed_feed_frame(weft_embed_t *em, const void *frame, size_t len) {
  weft__buf_t b = {NULL, 0, 0};
  weft_out_t out;
  int r;

  weft__embed_pump(em);
  if (!weft__embed_open_now(em))
    return WEFT_ECLOSED;
  out.buf = &b;
  out.zc = NULL;
  out.decoded = 0;
  r = em->peer.vt->encode(&em->peer, frame, len, &out);
  if (r == 0)
    r = weft_embed_feed(em, b.base, b.len);
  else if (r > 0)
    r = WEFT_EPROTO;
  weft__buf_free(&b);
  return r;
}

int weft_embed_eof(weft_embed_t *em) {
  weft__embed_pump(em);
  if (!weft__embed_open_now(em))
    return WEFT_ECLOSED;
  if (em->peer_eof)
    return WEFT_EINVAL;
  em->peer_eof = 1;
  weft__embed_pump(em);
  return 0;
}

int weft_embed_reset(weft_embed_t *em) {
  uv_buf_t buf = uv_buf_init(NULL, 0);

  weft__embed_pump(em);
  if (em->c == NULL || (em->c->flags & WEFT__C_CLOSED))
    return WEFT_ECLOSED;
  /* What libuv reports on a read after an RST. */
  weft__conn_read(&em->c->h.stream, UV_ECONNRESET, &buf);
  weft__embed_pump(em);
  return 0;
}

size_t weft_embed_output(weft_embed_t *em, const uint8_t **data) {
  weft__embed_pump(em);
  if (data != NULL)
    *data = em->out.len > 0 ? em->out.base : weft__embed_empty;
  return em->out.len;
}

size_t weft_embed_take(weft_embed_t *em, void *buf, size_t len) {
  weft__embed_pump(em);
  if (len > em->out.len)
    len = em->out.len;
  if (buf != NULL && len > 0)
    memcpy(buf, em->out.base, len);
  weft__buf_consume(&em->out, len);
  if (len > 0)
    em->scanned = 0; /* the peer's decoder starts afresh */
  return len;
}

/* Hands out a copy of a frame the peer's decoder found, and drops its bytes. */
static int weft__embed_frame(struct weft_embed *em, const weft_decode_t *d,
                             const uint8_t *base, size_t len,
                             const uint8_t **frame, size_t *flen) {
  if (d->consumed == 0 || d->consumed > len || d->frame_len > len ||
      (d->frame_len > 0 &&
       (d->frame < base || d->frame > base + len - d->frame_len))) {
    weft_log(WEFT_LOG_ERROR,
             "weft_embed: codec \"%s\" returned a frame "
             "outside its input",
             em->l->codec->name);
    return WEFT_EPLUGIN;
  }
  em->frame.len = 0;
  if (weft__buf_append(&em->frame, d->frame, d->frame_len) != 0)
    return WEFT_ENOMEM;
  weft__buf_consume(&em->out, d->consumed);
  em->scanned = 0;
  *frame = em->frame.len > 0 ? em->frame.base : weft__embed_empty;
  *flen = em->frame.len;
  return 1;
}

int weft_embed_read_frame(weft_embed_t *em, const uint8_t **frame,
                          size_t *len) {
  const weft_codec_vtable_t *vt = em->peer.vt;
  weft_decode_status_t st;
  weft_decode_t d;

  weft__embed_pump(em);
  *frame = weft__embed_empty;
  *len = 0;
  while (em->out.len > 0) {
    memset(&d, 0, sizeof(d));
    d.scanned = em->scanned;
    st = vt->decode(&em->peer, em->out.base, em->out.len, &d);
    switch (st) {
    case WEFT_DECODE_FRAME:
      return weft__embed_frame(em, &d, em->out.base, em->out.len, frame, len);
    case WEFT_DECODE_SKIP:
      if (d.consumed == 0 || d.consumed > em->out.len)
        return WEFT_EPLUGIN;
      weft__buf_consume(&em->out, d.consumed);
      em->scanned = 0;
      continue;
    case WEFT_DECODE_MORE:
      em->scanned = d.scanned <= em->out.len ? d.scanned : 0;
      /* The stream has ended: what is left is a last frame or truncated. */
      if (em->c == NULL || !(em->c->flags & WEFT__C_CLOSED))
        return 0;
      if (vt->decode_eof == NULL)
        return WEFT_ETRUNC;
      memset(&d, 0, sizeof(d));
      if (vt->decode_eof(&em->peer, em->out.base, em->out.len, &d) !=
          WEFT_DECODE_FRAME)
        return d.error < 0 ? d.error : WEFT_ETRUNC;
      return weft__embed_frame(em, &d, em->out.base, em->out.len, frame, len);
    case WEFT_DECODE_ERROR:
      return d.error < 0 ? d.error : WEFT_EPROTO;
    default:
      return WEFT_EPLUGIN;
    }
  }
  return 0;
}

/* The connection flushes to a peer that may read now. */
static int weft__embed_peer_changed(struct weft_embed *em) {
  weft__embed_pump(em);
  if (em->c == NULL || (em->c->flags & WEFT__C_CLOSED))
    return WEFT_ECLOSED;
  weft__conn_flush(em->c);
  weft__embed_pump(em);
  return 0;
}

int weft_embed_set_peer_reading(weft_embed_t *em, int reading) {
  em->peer_reading = reading != 0;
  em->window = 0;
  return weft__embed_peer_changed(em);
}

int weft_embed_peer_read(weft_embed_t *em, size_t len) {
  if (!em->peer_reading)
    em->window += len;
  return weft__embed_peer_changed(em);
}

/* ---- time and events -------------------------------------------------- */

static int weft__embed_kind(int timer) {
  switch (timer) {
  case WEFT_EMBED_IDLE_TIMEOUT:
    return WEFT__T_IDLE;
  case WEFT_EMBED_FRAME_TIMEOUT:
    return WEFT__T_FRAME;
  case WEFT_EMBED_WRITE_TIMEOUT:
    return WEFT__T_WRITE;
  case WEFT_EMBED_CLOSE_TIMEOUT:
    return WEFT__T_CLOSE;
  default:
    return WEFT__T_NONE;
  }
}

int weft_embed_armed(weft_embed_t *em, int timer) {
  weft__embed_pump(em);
  if (timer == WEFT_EMBED_SHUTDOWN_GRACE)
    return em->w.stop_seen && !em->w.grace_expired && em->c != NULL &&
           !(em->c->flags & WEFT__C_CLOSED);
  if (weft__embed_kind(timer) == WEFT__T_NONE)
    return WEFT_EINVAL;
  return em->c != NULL && weft__timer_armed(em->c, weft__embed_kind(timer));
}

int weft_embed_fire(weft_embed_t *em, int timer) {
  int r = weft_embed_armed(em, timer);

  if (r <= 0)
    return r < 0 ? r : WEFT_ENOENT;
  if (timer == WEFT_EMBED_SHUTDOWN_GRACE) {
    em->w.grace_deadline = uv_now(&em->w.loop);
    weft__worker_tick(&em->w);
  } else {
    weft__timer_expire(em->c, weft__embed_kind(timer));
  }
  weft__embed_pump(em);
  return 0;
}

int weft_embed_shutdown(weft_embed_t *em) {
  weft__embed_pump(em);
  if (em->w.stop_seen)
    return 0;
  em->w.stop_seen = 1;
  em->w.grace_deadline = uv_now(&em->w.loop) + em->e->grace_ms;
  if (em->c != NULL)
    weft__conn_begin_stop(em->c);
  weft__embed_pump(em);
  return 0;
}

int weft_embed_post(weft_embed_t *em, void *msg, void (*free_msg)(void *)) {
  int r;

  weft__embed_pump(em);
  if (!weft__embed_open_now(em))
    return WEFT_ECLOSED;
  r = weft_post(weft_conn_ref(em->c), msg, free_msg);
  if (r == 0)
    weft__embed_pump(em);
  return r;
}

int weft_embed_run(weft_embed_t *em) {
  return weft__embed_pump(em);
}

int weft_embed_closed(weft_embed_t *em, int *reason, const char **detail) {
  weft__embed_pump(em);
  if (!em->closed)
    return 0;
  if (reason != NULL)
    *reason = em->reason;
  if (detail != NULL)
    *detail = em->detail;
  return (em->c->flags & WEFT__C_CLOSED) ? 2 : 1;
}
