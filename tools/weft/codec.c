/*
 * weft: a codec plugin on the client's side.  It is found and checked by
 * the engine's own loader, its instances get their options the way the
 * engine gives them, and replies go through the engine's framer, so a
 * codec behaves here exactly as it does inside weftd.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "opts_internal.h"

#define WC_OPT_ORIGIN "--codec-opt"

int wc_codec_load(wc_codec_t *c, const wc_common_t *a) {
  const char *name = a->codec, *path = NULL;
  char err[2048];

  memset(c, 0, sizeof(*c));
  if (strchr(a->codec, '/') != NULL) {
    name = NULL;
    path = a->codec;
  }
  if (weft__plugins_init(&c->reg, a->path, a->npath, WEFT_PLUGINDIR) != 0) {
    wc_err("cannot start the plugin loader");
    return WC_USAGE;
  }
  c->plugin = weft__plugin_load(&c->reg, name, path, WEFT_PLUGIN_CODEC, err,
                                sizeof(err));
  if (c->plugin == NULL) {
    wc_err("%s", err);
    weft__plugins_destroy(&c->reg);
    return WC_USAGE;
  }
  c->vt = &c->plugin->codec;
  c->name = c->plugin->name;
  /* raw keeps no frame boundaries: its replies are counted in bytes. */
  c->stream = a->stream >= 0 ? a->stream : strcmp(c->name, "raw") == 0;
  if (a->verbose)
    fprintf(stderr, "%s: codec \"%s\" %s from %s%s\n", wc_prog, c->name,
            c->plugin->desc->version ? c->plugin->desc->version : "",
            c->plugin->file, c->stream ? " (a stream: replies in bytes)" : "");
  return 0;
}

void wc_codec_unload(wc_codec_t *c) {
  if (c->plugin == NULL)
    return;
  weft__plugin_release(&c->reg, c->plugin);
  weft__plugins_destroy(&c->reg);
  c->plugin = NULL;
}

/* An error not about one option has no position: drop the ":0". */
static void wc_opts_report(const weft_opts_t *o) {
  const char *m;
  size_t i, n = weft__opts_nerrors(o);
  size_t plen = strlen(WC_OPT_ORIGIN ":0: ");

  for (i = 0; i < n; i++) {
    m = weft__opts_error(o, i);
    if (strncmp(m, WC_OPT_ORIGIN ":0: ", plen) == 0)
      wc_err(WC_OPT_ORIGIN ": %s", m + plen);
    else
      wc_err("%s", m);
  }
}

int wc_codec_new(const wc_codec_t *c, const wc_common_t *a, void **state) {
  weft_opts_t *o;
  size_t i;
  int r = 0;

  *state = NULL;
  /* Errors read "--codec-opt:N: codec "NAME": ...", N the option's place
   * on the command line, as a config file's say file:line. */
  o = weft__opts_new("codec", c->name, WC_OPT_ORIGIN);
  if (o == NULL) {
    wc_err("out of memory");
    return WC_USAGE;
  }
  for (i = 0; i < a->nopts; i++)
    if ((r = weft__opts_add_arg(o, a->opts[i], (int)i + 1)) != 0) {
      wc_err("--codec-opt \"%s\": %s", a->opts[i],
             r == WEFT_EINVAL ? "not NAME=VALUE" : weft_strerror(r));
      weft__opts_free(o);
      return WC_USAGE;
    }
  if (c->vt->create != NULL)
    r = c->vt->create(o, state);
  if (r == 0) {
    weft__opts_check_unused(o);
    if (weft__opts_nerrors(o) > 0) {
      wc_codec_free(c, *state);
      *state = NULL;
      r = WEFT_EINVAL;
    }
  }
  if (r != 0) {
    if (weft__opts_nerrors(o) > 0)
      wc_opts_report(o);
    else
      wc_err("codec \"%s\": create failed: %s", c->name, weft_strerror(r));
  }
  weft__opts_free(o);
  return r == 0 ? 0 : WC_USAGE;
}

void wc_codec_free(const wc_codec_t *c, void *state) {
  if (c->vt->destroy != NULL && state != NULL)
    c->vt->destroy(state);
}

int wc_cconn_init(wc_cconn_t *cc, const wc_codec_t *c, void *state) {
  void *conn_state = NULL;
  int r;

  cc->codec = c;
  if (c->vt->conn_init != NULL) {
    r = c->vt->conn_init(state, &conn_state);
    if (r != 0) {
      weft__framer_init(&cc->fr, c->vt, state, NULL, NULL);
      return r;
    }
  }
  /* No weft_conn_t: a codec's own writes (weft_codec_write) are refused
   * with WEFT_EINVAL, as in any use outside a connection. */
  weft__framer_init(&cc->fr, c->vt, state, conn_state, NULL);
  return 0;
}

void wc_cconn_free(wc_cconn_t *cc) {
  const weft_codec_vtable_t *vt = cc->codec->vt;

  if (cc->fr.ctx.conn_state != NULL && vt->conn_free != NULL)
    vt->conn_free(cc->fr.ctx.state, cc->fr.ctx.conn_state);
  cc->fr.ctx.conn_state = NULL;
  weft__framer_free(&cc->fr);
}

int wc_cconn_encode(wc_cconn_t *cc, const void *frame, size_t len,
                    weft__buf_t *out) {
  weft_out_t o;
  size_t before = out->len;
  int r;

  o.buf = out;
  o.zc = NULL; /* copy: the frame's bytes are ours only for this call */
  o.decoded = 0;
  r = cc->codec->vt->encode(&cc->fr.ctx, frame, len, &o);
  if (r != 0)
    out->len = before; /* as weft_conn_send() does */
  return r;
}

int wc_cconn_encode_many(wc_cconn_t *cc, const weft_frame_t *frames, size_t n,
                         weft__buf_t *out) {
  const weft_codec_vtable_t *vt = cc->codec->vt;
  weft_out_t o;
  size_t before = out->len, i;
  int r = 0;

  if (vt->encode_many == NULL) {
    for (i = 0; i < n && r == 0; i++)
      r = wc_cconn_encode(cc, frames[i].data, frames[i].len, out);
  } else {
    o.buf = out;
    o.zc = NULL;
    o.decoded = 0; /* our frames, not lines decode_many returned */
    r = vt->encode_many(&cc->fr.ctx, frames, n, &o);
  }
  if (r != 0)
    out->len = before;
  return r;
}

void wc_cconn_error(const wc_cconn_t *cc, char *b, size_t n) {
  snprintf(b, n, "%s \"%s\" at byte %llu", weft_err_name(cc->fr.error),
           cc->fr.reason ? cc->fr.reason : weft_strerror(cc->fr.error),
           (unsigned long long)cc->fr.offset);
}
