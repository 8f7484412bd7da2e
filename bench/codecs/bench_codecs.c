/*
 * bench_codecs: decode throughput of each built-in codec, in GB/s of wire
 * bytes and millions of frames per second, over large in-memory streams of
 * small (16-byte) and large (64 KiB) frames, beside the physical
 * references: a plain memchr loop for line, a header-walk loop for length.
 *
 *   bench/codecs/bench_codecs [--size MiB] [--rounds N] [--codec NAME]
 *
 * Each stream is decoded three ways, each the best of N rounds:
 *   decode  decode() called in a loop at each frame's start, over the
 *           stream in place: the codec's own cost;
 *   framer  the stream fed to the engine's framer in one piece: its
 *           zero-copy path, with a callback counting frames (the codec's
 *           and the framer's cost, nothing else);
 *   64k rd  the stream fed to the framer in 64 KiB reads copied into a
 *           scratch buffer first, as from a socket (frames that straddle
 *           reads are kept and resumed, so a frame larger than a read is
 *           copied once more to be whole).
 * The references run over the stream in place (for decode and framer)
 * and over the same 64 KiB copies.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weft/weft.h>

#include "framer.h"
#include "opts_internal.h"

extern const weft_plugin_t line_LTX_weft_plugin, length_LTX_weft_plugin,
    netstring_LTX_weft_plugin, varint_LTX_weft_plugin, fixed_LTX_weft_plugin,
    raw_LTX_weft_plugin;

#define READ_SIZE 65536

static size_t stream_mib = 128;
static int rounds = 5;
static const char *only;

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);

  if (p == NULL) {
    fprintf(stderr, "bench_codecs: out of memory (%zu bytes)\n", n);
    exit(1);
  }
  return p;
}

/* A codec instance made as the engine makes one. */
typedef struct {
  const weft_codec_vtable_t *vt;
  void *state;
} codec_t;

static codec_t open_codec(const weft_plugin_t *p, const char *opt,
                          const char *val) {
  codec_t c;
  weft_opts_t *o = weft__opts_new("codec", p->name, "bench");

  c.vt = p->vtable;
  c.state = NULL;
  if (opt != NULL)
    weft__opts_add_str(o, opt, val, 1);
  if (c.vt->create != NULL && c.vt->create(o, &c.state) != 0) {
    fprintf(stderr, "bench_codecs: %s refused %s = %s\n", p->name, opt, val);
    exit(1);
  }
  weft__opts_free(o);
  return c;
}

static void close_codec(codec_t *c) {
  if (c->vt->destroy != NULL)
    c->vt->destroy(c->state);
}

/* A stream of `size`-byte frames, encoded by the codec, about
 * stream_mib MiB long; *nframes says how many. */
static uint8_t *make_stream(const codec_t *c, size_t size, size_t *len,
                            size_t *nframes) {
  weft_codec_ctx_t ctx;
  weft__buf_t one;
  weft_out_t o;
  uint8_t *payload, *s;
  size_t n, i, total = stream_mib << 20;

  payload = xmalloc(size);
  for (i = 0; i < size; i++)
    payload[i] = (uint8_t)('a' + i % 26); /* no delimiter inside */
  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c->vt;
  ctx.state = c->state;
  memset(&one, 0, sizeof(one));
  o.buf = &one;
  o.zc = NULL;
  if (c->vt->encode(&ctx, payload, size, &o) != 0) {
    fprintf(stderr, "bench_codecs: encode refused a %zu-byte frame\n", size);
    exit(1);
  }
  n = total / one.len;
  if (n == 0)
    n = 1;
  s = xmalloc(n * one.len);
  for (i = 0; i < n; i++)
    memcpy(s + i * one.len, one.base, one.len);
  *len = n * one.len;
  *nframes = n;
  weft__buf_free(&one);
  free(payload);
  return s;
}

static int count_frame(void *arg, const uint8_t *frame, size_t len) {
  (void)frame;
  (void)len;
  ++*(size_t *)arg;
  return 0;
}

/* decode() called directly in a loop over the stream, as the framer's
 * zero-copy path calls it, without the framer: the codec's own cost. */
static double run_direct(const codec_t *c, const uint8_t *s, size_t len,
                         size_t *frames) {
  weft_codec_ctx_t ctx;
  weft_decode_t d;
  size_t off = 0, n = 0;
  void *cs = NULL;
  double t0;

  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = c->vt;
  ctx.state = c->state;
  if (c->vt->conn_init != NULL)
    c->vt->conn_init(c->state, &cs);
  ctx.conn_state = cs;
  t0 = now_s();
  while (off < len) {
    d.scanned = 0;
    d.consumed = 0;
    if (c->vt->decode(&ctx, s + off, len - off, &d) != WEFT_DECODE_FRAME)
      break;
    off += d.consumed;
    n++;
  }
  t0 = now_s() - t0;
  if (cs != NULL && c->vt->conn_free != NULL)
    c->vt->conn_free(c->state, cs);
  *frames = n;
  return t0;
}

/* The stream through the framer: whole (chunk 0), or in reads of `chunk`
 * bytes copied into a scratch buffer.  Returns seconds; *frames counted. */
static double run_framer(const codec_t *c, const uint8_t *s, size_t len,
                         size_t chunk, size_t *frames) {
  static uint8_t scratch[READ_SIZE];
  weft__framer_t f;
  uint8_t *base;
  size_t done = 0, n, avail;
  void *cs = NULL;
  double t0;
  int rc = 0;

  *frames = 0;
  if (c->vt->conn_init != NULL)
    c->vt->conn_init(c->state, &cs);
  weft__framer_init(&f, c->vt, c->state, cs, NULL);
  t0 = now_s();
  if (chunk == 0) {
    rc = weft__framer_feed(&f, s, len, count_frame, frames);
  } else {
    while (done < len && rc == 0) {
      avail = weft__framer_read_buf(&f, scratch, sizeof(scratch), &base);
      n = len - done < chunk ? len - done : chunk;
      if (n > avail)
        n = avail;
      memcpy(base, s + done, n); /* the "read" */
      done += n;
      rc = weft__framer_feed(&f, base, n, count_frame, frames);
    }
  }
  t0 = now_s() - t0;
  if (rc != 0) {
    fprintf(stderr, "bench_codecs: decode failed: %s\n",
            f.reason ? f.reason : weft_strerror(rc));
    exit(1);
  }
  weft__framer_free(&f);
  if (cs != NULL && c->vt->conn_free != NULL)
    c->vt->conn_free(c->state, cs);
  return t0;
}

/* References.  line: memchr from one "\n" to the next.  length: read the
 * 4-byte big-endian header, skip the frame.  In place, or over 64 KiB
 * copies with the state carried across them. */
static size_t ref_memchr(const uint8_t *p, size_t len) {
  const uint8_t *end = p + len, *q;
  size_t n = 0;

  while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    n++;
    p = q + 1;
  }
  return n;
}

/* The header walk in place. */
static size_t ref_walk(const uint8_t *p, size_t len) {
  size_t n = 0, at = 0;

  while (at + 4 <= len) {
    at += 4 + ((size_t)p[at] << 24 | (size_t)p[at + 1] << 16 |
               (size_t)p[at + 2] << 8 | p[at + 3]);
    n++;
  }
  return n;
}

/* The header walk over reads: a header cut by a read is carried over. */
typedef struct {
  size_t skip; /* body bytes of the current frame still to pass */
  uint8_t hdr[4];
  unsigned hlen;
} walk_t;

static size_t ref_walk_read(walk_t *w, const uint8_t *p, size_t len) {
  size_t n = 0, at = 0, k;

  while (at < len) {
    if (w->skip > 0) {
      k = len - at < w->skip ? len - at : w->skip;
      w->skip -= k;
      at += k;
      continue;
    }
    if (w->hlen == 0 && at + 4 <= len) {
      w->skip = (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 |
                (size_t)p[at + 2] << 8 | p[at + 3];
      at += 4;
      n++;
      continue;
    }
    w->hdr[w->hlen++] = p[at++];
    if (w->hlen == 4) {
      w->skip = (size_t)w->hdr[0] << 24 | (size_t)w->hdr[1] << 16 |
                (size_t)w->hdr[2] << 8 | w->hdr[3];
      w->hlen = 0;
      n++;
    }
  }
  return n;
}

static double run_ref(int line, const uint8_t *s, size_t len, size_t chunk,
                      size_t *frames) {
  static uint8_t scratch[READ_SIZE];
  size_t done = 0, n;
  walk_t w;
  double t0 = now_s();

  *frames = 0;
  memset(&w, 0, sizeof(w));
  if (chunk == 0) {
    *frames = line ? ref_memchr(s, len) : ref_walk(s, len);
  } else {
    while (done < len) {
      n = len - done < chunk ? len - done : chunk;
      memcpy(scratch, s + done, n); /* the "read" */
      done += n;
      *frames += line ? ref_memchr(scratch, n) : ref_walk_read(&w, scratch, n);
    }
  }
  return now_s() - t0;
}

typedef struct {
  const char *name;
  const weft_plugin_t *plugin;
  const char *opt; /* a limit large enough for 64 KiB frames */
  const char *val;
  int ref; /* 1: memchr (line), 2: header walk (length), 0: none */
} bench_codec_t;

static void report(const char *name, size_t size, const char *mode, size_t len,
                   size_t frames, double t, double rt, size_t rframes) {
  char sz[32];

  if (size >= 1024)
    snprintf(sz, sizeof(sz), "%zu KiB", size / 1024);
  else
    snprintf(sz, sizeof(sz), "%zu B", size);
  printf("%-10s %-7s %-7s %8.2f %9.1f", name, sz, mode, (double)len / t / 1e9,
         (double)frames / t / 1e6);
  if (rt > 0)
    printf("   %8.2f %9.1f   %5.0f%%", (double)len / rt / 1e9,
           (double)rframes / rt / 1e6, 100.0 * rt / t);
  printf("\n");
}

int main(int argc, char **argv) {
  static const bench_codec_t codecs[] = {
      {"line", &line_LTX_weft_plugin, "max_length", "64k", 1},
      {"length", &length_LTX_weft_plugin, NULL, NULL, 2},
      {"netstring", &netstring_LTX_weft_plugin, NULL, NULL, 0},
      {"varint", &varint_LTX_weft_plugin, NULL, NULL, 0},
      {"fixed", &fixed_LTX_weft_plugin, "frame_size", NULL, 0},
      {"raw", &raw_LTX_weft_plugin, NULL, NULL, 0},
  };
  static const size_t sizes[] = {16, 65536};
  static const struct option longopts[] = {
      {"size", required_argument, NULL, 's'},
      {"rounds", required_argument, NULL, 'r'},
      {"codec", required_argument, NULL, 'c'},
      {NULL, 0, NULL, 0}};
  size_t ci, si, len, nframes, frames, rframes, m;
  double t, best, rbest, rt;
  uint8_t *s;
  int ch, r;
  char val[32];

  while ((ch = getopt_long(argc, argv, "s:r:c:", longopts, NULL)) != -1) {
    switch (ch) {
    case 's':
      stream_mib = (size_t)strtoul(optarg, NULL, 0);
      break;
    case 'r':
      rounds = atoi(optarg);
      break;
    case 'c':
      only = optarg;
      break;
    default:
      fprintf(stderr, "usage: bench_codecs [--size MiB] [--rounds N] "
                      "[--codec NAME]\n");
      return 2;
    }
  }
  if (rounds < 1)
    rounds = 1;
  printf("streams of %zu MiB, best of %d rounds; GB/s of wire bytes, "
         "Mframes/s; ratio = codec / reference\n",
         stream_mib, rounds);
  printf("%-10s %-7s %-7s %8s %9s   %8s %9s   %6s\n", "codec", "frame", "fed",
         "GB/s", "Mframes/s", "ref GB/s", "Mframes/s", "ratio");
  for (ci = 0; ci < sizeof(codecs) / sizeof(codecs[0]); ci++) {
    const bench_codec_t *b = &codecs[ci];
    if (only != NULL && strcmp(only, b->name) != 0)
      continue;
    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
      codec_t c;
      const char *v = b->val;
      if (b->opt != NULL && v == NULL) {
        snprintf(val, sizeof(val), "%zu", sizes[si]);
        v = val;
      }
      c = open_codec(b->plugin, b->opt, v);
      s = make_stream(&c, sizes[si], &len, &nframes);
      for (m = 0; m < 3; m++) {
        size_t chunk = m < 2 ? 0 : READ_SIZE;
        best = rbest = 0;
        rframes = 0;
        /* raw in one piece is one frame: only its reads mean anything. */
        if (ci == 5 && m < 2)
          continue;
        for (r = 0; r < rounds; r++) {
          t = m == 0 ? run_direct(&c, s, len, &frames)
                     : run_framer(&c, s, len, chunk, &frames);
          if (best == 0 || t < best)
            best = t;
          if (b->ref != 0) {
            rt = run_ref(b->ref == 1, s, len, chunk, &rframes);
            if (rbest == 0 || rt < rbest)
              rbest = rt;
          }
        }
        if (ci != 5 && frames != nframes) {
          fprintf(stderr, "bench_codecs: %s: %zu frames, want %zu\n", b->name,
                  frames, nframes);
          return 1;
        }
        report(b->name, sizes[si],
               m == 0   ? "decode"
               : m == 1 ? "framer"
                        : "64k rd",
               len, frames, best, rbest, rframes);
      }
      free(s);
      close_codec(&c);
    }
  }
  return 0;
}
