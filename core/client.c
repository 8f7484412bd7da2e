/*
 * Clients: what a handler's outbound connections share -- a codec instance,
 * the handler's callbacks, settings and counters -- on the worker of the
 * handler instance that made it.  A client is a listener with no socket:
 * its connections run through the same code as accepted ones.  Attempts
 * to connect live in connect.c.
 */
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "internal.h"
#include "opts_internal.h"

/* Defaults, as for a listener (see conf.c). */
#define WEFT__CLIENT_HIGH (64 * 1024)
#define WEFT__CLIENT_LOW (32 * 1024)

/* "max_frame = 65536; length_size = 2;" into a codec's options. */
static weft_opts_t *weft__client_codec_opts(weft_opts_t *owner,
                                            const char *codec,
                                            const char *text) {
  int line = weft__opts_line(owner);
  config_setting_t *root, *m;
  weft_opts_t *o;
  const char *key;
  config_t cf;
  int i, n;

  o = weft__opts_new("codec", codec, weft__opts_origin(owner));
  if (o == NULL || text == NULL)
    return o;
  weft__opts_set_line(o, line);
  config_init(&cf);
  if (!config_read_string(&cf, text)) {
    weft__opts_fail(o, line, "options \"%s\": %s (line %d of the text)", text,
                    config_error_text(&cf), config_error_line(&cf));
    config_destroy(&cf);
    return o;
  }
  root = config_root_setting(&cf);
  n = config_setting_length(root);
  for (i = 0; i < n; i++) {
    m = config_setting_get_elem(root, (unsigned)i);
    key = config_setting_name(m);
    if (weft__opts_add_setting(o, m, line) == WEFT_EINVAL)
      weft__opts_fail(o, line,
                      "option \"%s\" must be a number, a boolean or a string",
                      key);
  }
  config_destroy(&cf);
  return o;
}

/* Keeps p loaded as long as the listener copy's listener lives. */
static int weft__client_keep_plugin(weft__listener_t *l, weft__plugin_t *p) {
  weft__plugin_t **x = realloc(l->extra, (l->nextra + 1) * sizeof(*x));

  if (x == NULL)
    return WEFT_ENOMEM;
  l->extra = x;
  l->extra[l->nextra++] = p;
  return 0;
}

static int weft__client_codec(weft_client_t *cl, weft_opts_t *opts,
                              const weft_client_conf_t *conf) {
  weft_engine_t *e = weft__opts_engine(opts);
  const char *name = conf->codec;
  int path = strchr(name, '/') != NULL;
  weft__plugin_t *p;
  weft_opts_t *co;
  char err[2048];
  int r = 0;

  p = weft__plugin_load(&e->plugins, path ? NULL : name, path ? name : NULL,
                        WEFT_PLUGIN_CODEC, err, sizeof(err));
  if (p == NULL) {
    weft__opts_fail(opts, 0, "client \"%s\": %s", cl->name, err);
    return WEFT_EPLUGIN;
  }
  if (weft__client_keep_plugin(cl->owner->l, p) != 0) {
    weft__plugin_release(&e->plugins, p);
    return WEFT_ENOMEM;
  }
  cl->wl.cvt = &p->codec;
  co = weft__client_codec_opts(opts, p->name, conf->codec_options);
  if (co == NULL)
    return WEFT_ENOMEM;
  if (weft__opts_nerrors(co) == 0 && p->codec.create != NULL)
    r = p->codec.create(co, &cl->wl.cstate);
  if (r == 0 && weft__opts_nerrors(co) == 0) {
    cl->wl.cstate_made = 1;
    weft__opts_check_unused(co);
  }
  if (weft__opts_nerrors(co) > 0) {
    weft__opts_add_errors(opts, co);
    r = WEFT_ECONFIG;
  } else if (r != 0) {
    weft__opts_fail(opts, 0, "client \"%s\": codec \"%s\": create failed: %s",
                    cl->name, p->name, weft_strerror(r));
  }
  weft__opts_free(co);
  return r;
}

static void weft__client_destroy_codec(weft_client_t *cl) {
  if (cl->wl.cstate_made && cl->wl.cvt->destroy != NULL)
    cl->wl.cvt->destroy(cl->wl.cstate);
  cl->wl.cstate_made = 0;
}

int weft_client_new(weft_opts_t *opts, const weft_client_conf_t *cf,
                    weft_client_t **out) {
  weft__wlistener_t *owner;
  weft_client_conf_t conf;
  weft_client_t *cl;
  size_t n;
  int r;

  *out = NULL;
  if (opts == NULL || cf == NULL)
    return WEFT_EINVAL;
  memset(&conf, 0, sizeof(conf));
  memcpy(&conf, cf,
         cf->struct_size < sizeof(conf) ? cf->struct_size : sizeof(conf));
  owner = weft__opts_owner(opts);
  if (owner == NULL || weft__opts_engine(opts) == NULL) {
    weft__opts_fail(opts, 0,
                    "weft_client_new: only a handler's create() "
                    "run by the engine can make a client");
    return WEFT_EINVAL;
  }
  if (cf->struct_size < offsetof(weft_client_conf_t, connect_timeout_ms) ||
      conf.codec == NULL || conf.handler == NULL ||
      conf.handler->struct_size <
          offsetof(weft_handler_vtable_t, on_frame) + sizeof(void *) ||
      conf.handler->on_frame == NULL) {
    weft__opts_fail(opts, 0,
                    "weft_client_new: the client needs a codec and "
                    "a handler with on_frame");
    return WEFT_EINVAL;
  }
  cl = calloc(1, sizeof(*cl));
  if (cl == NULL)
    return WEFT_ENOMEM;
  n = strlen(owner->l->conf->name) + strlen(conf.name ? conf.name : "client");
  cl->name = malloc(n + 2);
  if (cl->name == NULL) {
    free(cl);
    return WEFT_ENOMEM;
  }
  snprintf(cl->name, n + 2, "%s/%s", owner->l->conf->name,
           conf.name ? conf.name : "client");
  cl->owner = owner;
  weft__list_init(&cl->connecting);
  /* A listener with no socket: the connection code needs nothing else. */
  cl->conf.name = cl->name;
  cl->conf.bind = cl->name;
  cl->conf.idle_timeout_ms = conf.idle_timeout_ms;
  cl->conf.frame_timeout_ms = conf.frame_timeout_ms;
  cl->conf.write_timeout_ms = conf.write_timeout_ms;
  cl->conf.high_watermark =
      conf.high_watermark ? conf.high_watermark : WEFT__CLIENT_HIGH;
  cl->conf.low_watermark =
      conf.high_watermark ? conf.low_watermark : WEFT__CLIENT_LOW;
  if (cl->conf.low_watermark >= cl->conf.high_watermark)
    cl->conf.low_watermark = cl->conf.high_watermark / 2;
  cl->connect_timeout_ms =
      conf.connect_timeout_ms ? conf.connect_timeout_ms : 5000;
  cl->retries = conf.retries;
  cl->backoff_ms = conf.backoff_ms ? conf.backoff_ms : 100;
  cl->backoff_max_ms = conf.backoff_max_ms ? conf.backoff_max_ms : 5000;
  cl->l.cfg = owner->l->cfg;
  cl->l.conf = &cl->conf;
  cl->l.nworkers = 1;
  cl->l.wl = &cl->wl;
  cl->l.unix_fd = -1;
  cl->l.client = cl;
  cl->wl.l = &cl->l;
  cl->wl.w = owner->w;
  cl->wl.fd = -1;
  weft__list_init(&cl->wl.clients);
  /* The vtable sized as this weft knows it, as the loader does. */
  n = conf.handler->struct_size < sizeof(cl->hvt) ? conf.handler->struct_size
                                                  : sizeof(cl->hvt);
  memcpy(&cl->hvt, conf.handler, n);
  cl->hvt.create = NULL;
  cl->hvt.destroy = NULL;
  cl->wl.hvt = &cl->hvt;
  cl->wl.hstate = conf.handler_state;
  /* Listed first: the listener frees it even when the codec fails. */
  weft__list_push(&owner->clients, &cl->node);
  r = weft__client_codec(cl, opts, &conf);
  if (r != 0) {
    weft__client_destroy_codec(cl);
    cl->freed = 1;
    return r;
  }
  *out = cl;
  return 0;
}

void weft_client_free(weft_client_t *cl) {
  if (cl == NULL || cl->freed)
    return;
  cl->freed = 1;
  /* Its last connection finishes the job (weft__client_conn_gone). */
  if (cl->wl.nconns == 0)
    weft__client_destroy_codec(cl);
}

void weft__client_conn_gone(weft_conn_t *c) {
  weft_client_t *cl = c->wl->l->client;
  weft__wlistener_t *owner = cl->owner;

  if (cl->freed && cl->wl.nconns == 0)
    weft__client_destroy_codec(cl);
  /* Last: the owner's handler may be destroyed now, and the client too. */
  owner->nconns--;
  weft__wl_maybe_finish(owner);
}

void weft__clients_free(weft__wlistener_t *wl) {
  weft_client_t *cl;

  if (wl->clients.next == NULL)
    return; /* never initialised */
  while (!weft__list_empty(&wl->clients)) {
    cl = WEFT__CONTAINER_OF(wl->clients.next, weft_client_t, node);
    weft__list_remove(&cl->node);
    weft__client_destroy_codec(cl);
    free(cl->name);
    free(cl);
  }
}
