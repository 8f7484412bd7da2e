/*
 * weft-codec-test: checks a codec plugin against the decoder contract of
 * weft-codec(3), with the options it will run with.
 *
 *   weft-codec-test [--seed N] [--stream] [--limit OPT] [--skip CHECK]
 *                   PLUGIN [NAME=VALUE ...]
 *
 * The plugin is loaded by the same loader as weftd's, created with the
 * options, and driven by the engine's own framer.  Every call of decode()
 * and decode_eof() gets a private copy of its input in pages of its own
 * whose neighbours are PROT_NONE, so a read one byte past the input (or
 * before it) faults; after the call the copy is scribbled over and made
 * PROT_NONE, so a pointer kept past the call faults when it is used.  A
 * fault is reported with what was running and its input in hex.
 *
 * The checks: frames through encode() and back, whole, byte by byte, in
 * random reads and split at every point; every cut of a stream gives the
 * frames before it and an error at EOF; the largest frame the encoder
 * takes decodes; one byte more (made by a second instance with a larger
 * limit) is an error with no frame; and hostile streams never make the
 * framer hold more than the largest frame.  Exit status: 0 when every
 * check passed, 1 when one failed, 2 when the plugin could not be tested.
 * See weft-codec-test(1).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <weft/weft.h>

#include "buf.h"
#include "framer.h"
#include "opts_internal.h"
#include "plugin_loader.h"

/* Frames larger than this are not built: the encoder is "unbounded". */
#define CT_CAP ((size_t)16 << 20)
/* Streams for the split-at-every-point and truncation checks stay small. */
#define CT_SMALL 1024
/* Inputs copied into guard pages are freed only after this many calls. */
#define CT_QUARANTINE 16
/* What the framer may hold beyond the largest frame the encoder writes:
 * room for a longer header than the encoder's own (protobuf's varints
 * may take 10 bytes where the encoder writes 1). */
#define CT_SLACK 64

/* ------------------------------------------------------------------ */
/* Options and the codec under test. */

static struct {
  const char *plugin;
  uint64_t seed;
  size_t frames;     /* frames per round trip */
  int stream;        /* frame boundaries are not kept (raw) */
  const char *limit; /* the option bounding a frame, if named */
  int verbose;
  unsigned skip; /* CT_SKIP_* bits */
  int argc;
  char **argv;        /* NAME=VALUE options */
  const char *decode; /* --decode HEX: run this input only */
  const char *split;  /* --split: how to feed it */
} cfg;

enum {
  CT_SKIP_ROUNDTRIP = 1,
  CT_SKIP_SPLITS = 2,
  CT_SKIP_TRUNC = 4,
  CT_SKIP_MAX = 8,
  CT_SKIP_LIMIT = 16,
  CT_SKIP_GARBAGE = 32,
};

static const struct {
  const char *name;
  unsigned bit;
} ct_checks[] = {
    {"roundtrip", CT_SKIP_ROUNDTRIP}, {"splits", CT_SKIP_SPLITS},
    {"truncation", CT_SKIP_TRUNC},    {"max", CT_SKIP_MAX},
    {"limit", CT_SKIP_LIMIT},         {"garbage", CT_SKIP_GARBAGE},
};

/* Option names tried, in order, when looking for a frame-size limit. */
static const char *const ct_limit_names[] = {"max_length", "max_frame",
                                             "max_size", NULL};

typedef struct {
  const weft_plugin_t *desc;
  const weft_codec_vtable_t *vt; /* the plugin's own, sized for this weft */
  void *state;
} ct_codec_t;

static ct_codec_t codec;         /* the instance under test */
static weft_codec_vtable_t shim; /* its vtable, decode calls guarded */

static unsigned failures;

/* ------------------------------------------------------------------ */
/* What is running, for reports; the signal handler reads it too. */

static struct {
  const char *check;
  char split[128];
  const uint8_t *stream;
  size_t stream_len;
  const uint8_t *call_in; /* the current call's input, as the framer had it */
  size_t call_len;
  const char *call_fn;
  unsigned long calls; /* decode calls so far, in all checks */
  int in_call;
} now;

/* A short random generator (splitmix64): reproducible from --seed. */
static uint64_t ct_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void ct_rand_bytes(uint64_t *s, uint8_t *p, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    p[i] = (uint8_t)ct_rand(s);
}

static void *ct_alloc(size_t n) {
  void *p = malloc(n ? n : 1);

  if (p == NULL) {
    fprintf(stderr, "weft-codec-test: out of memory (%zu bytes)\n", n);
    exit(2);
  }
  return p;
}

/* Prints up to 256 bytes of p as hex, with the total. */
static void ct_hex(FILE *f, const char *what, const uint8_t *p, size_t n) {
  size_t i, show = n < 256 ? n : 256;

  fprintf(f, "  %s (%zu bytes):", what, n);
  for (i = 0; i < show; i++)
    fprintf(f, "%s%02x", i % 32 == 0 ? "\n    " : i % 4 == 0 ? " " : "", p[i]);
  fprintf(f, "%s\n", n > show ? " ..." : "");
}

static void ct_reproduce(FILE *f) {
  int i;

  fprintf(f, "  reproduce: weft-codec-test --seed %llu%s %s",
          (unsigned long long)cfg.seed, cfg.stream ? " --stream" : "",
          cfg.plugin);
  for (i = 0; i < cfg.argc; i++)
    fprintf(f, " '%s'", cfg.argv[i]);
  fprintf(f, "\n");
}

/* Reports one failure of the running check, with how to reproduce it. */
static void ct_fail(const char *fmt, ...) WEFT_PRINTF(1, 2);

static void ct_fail(const char *fmt, ...) {
  va_list ap;

  failures++;
  printf("FAIL %s: ", now.check);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (now.split[0] != '\0')
    printf("  fed as: %s\n", now.split);
  if (now.stream != NULL)
    ct_hex(stdout, "input", now.stream, now.stream_len);
  ct_reproduce(stdout);
  fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Guarded copies of each decode call's input. */

typedef struct {
  uint8_t *map; /* [guard page][data pages][guard page] */
  size_t maplen;
  uint8_t *data;
  size_t len;
} ct_region_t;

static size_t pagesz;
static ct_region_t cur;                       /* the running call's copy */
static ct_region_t quarantine[CT_QUARANTINE]; /* earlier calls' copies */
static size_t qnext;

static ct_region_t ct_guard_copy(const uint8_t *in, size_t len, int left) {
  ct_region_t r;
  size_t data_pages = (len + pagesz - 1) / pagesz;
  size_t i;

  if (data_pages == 0)
    data_pages = 1;
  memset(&r, 0, sizeof(r));
  r.maplen = (data_pages + 2) * pagesz;
  /* Reuse a quarantined mapping of the right size: cheaper than mmap. */
  for (i = 0; i < CT_QUARANTINE; i++) {
    ct_region_t *q = &quarantine[(qnext + i) % CT_QUARANTINE];
    if (q->map != NULL && q->maplen == r.maplen) {
      r.map = q->map;
      q->map = NULL;
      break;
    }
  }
  if (r.map == NULL) {
    r.map = mmap(NULL, r.maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r.map == MAP_FAILED) {
      perror("weft-codec-test: mmap");
      exit(2);
    }
  }
  if (mprotect(r.map + pagesz, data_pages * pagesz, PROT_READ | PROT_WRITE) !=
      0) {
    perror("weft-codec-test: mprotect");
    exit(2);
  }
  /* Right against the trailing guard (an overread faults), or, every
   * other call, right after the leading one (an underread faults). */
  r.data = left ? r.map + pagesz : r.map + pagesz + data_pages * pagesz - len;
  r.len = len;
  memcpy(r.data, in, len);
  return r;
}

/* Scribbles over the copy and seals it, so a kept pointer faults. */
static void ct_guard_retire(ct_region_t *r) {
  ct_region_t *q = &quarantine[qnext];

  memset(r->map + pagesz, 0xa5, r->maplen - 2 * pagesz);
  mprotect(r->map, r->maplen, PROT_NONE);
  if (q->map != NULL)
    munmap(q->map, q->maplen);
  *q = *r;
  qnext = (qnext + 1) % CT_QUARANTINE;
  memset(r, 0, sizeof(*r));
}

static int ct_in_quarantine(const void *p) {
  const uint8_t *b = p;
  size_t i;

  for (i = 0; i < CT_QUARANTINE; i++)
    if (quarantine[i].map != NULL && b >= quarantine[i].map &&
        b < quarantine[i].map + quarantine[i].maplen)
      return 1;
  return 0;
}

/* Async-signal-safe output for the fault handler. */
static void sig_puts(const char *s) {
  if (write(STDOUT_FILENO, s, strlen(s)) < 0)
    return;
}

static void sig_putu(unsigned long v) {
  char b[24];
  int i = (int)sizeof(b);

  b[--i] = '\0';
  do
    b[--i] = (char)('0' + v % 10);
  while ((v /= 10) > 0 && i > 0);
  sig_puts(b + i);
}

static void sig_hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char b[3];
  size_t i, show = n < 256 ? n : 256;

  b[2] = '\0';
  for (i = 0; i < show; i++) {
    sig_puts(i % 32 == 0 ? "\n    " : i % 4 == 0 ? " " : "");
    b[0] = digits[p[i] >> 4];
    b[1] = digits[p[i] & 15];
    sig_puts(b);
  }
  sig_puts(n > show ? " ...\n" : "\n");
}

static void ct_on_fault(int sig, siginfo_t *si, void *uc) {
  const uint8_t *a = si->si_addr;
  int i;

  (void)uc;
  sig_puts("FAIL ");
  sig_puts(now.check ? now.check : "setup");
  sig_puts(": ");
  if (!now.in_call) {
    sig_puts(sig == SIGSEGV ? "segmentation fault" : "fatal signal");
    sig_puts(" outside decode\n");
  } else {
    sig_puts(now.call_fn);
    if (cur.map != NULL && a >= cur.data + cur.len &&
        a < cur.map + cur.maplen) {
      sig_puts("() read ");
      sig_putu((unsigned long)(a - (cur.data + cur.len)) + 1);
      sig_puts(" byte(s) past the end of its ");
      sig_putu(cur.len);
      sig_puts("-byte input\n");
    } else if (cur.map != NULL && a >= cur.map && a < cur.data) {
      sig_puts("() read ");
      sig_putu((unsigned long)(cur.data - a));
      sig_puts(" byte(s) before the start of its input\n");
    } else if (ct_in_quarantine(a)) {
      sig_puts("() used a pointer into the input of an earlier call: a "
               "codec must not keep pointers into its input past the call\n");
    } else {
      sig_puts("() crashed (");
      sig_puts(sig == SIGSEGV  ? "SIGSEGV"
               : sig == SIGBUS ? "SIGBUS"
                               : "signal");
      sig_puts(")\n");
    }
    sig_puts("  call #");
    sig_putu(now.calls);
    sig_puts(", input of that call (");
    sig_putu(now.call_len);
    sig_puts(" bytes):");
    sig_hex(now.call_in, now.call_len);
  }
  if (now.split[0] != '\0') {
    sig_puts("  fed as: ");
    sig_puts(now.split);
    sig_puts("\n");
  }
  if (now.stream != NULL) {
    sig_puts("  input (");
    sig_putu(now.stream_len);
    sig_puts(" bytes):");
    sig_hex(now.stream, now.stream_len);
  }
  sig_puts("  reproduce: weft-codec-test --seed ");
  sig_putu((unsigned long)cfg.seed);
  sig_puts(cfg.stream ? " --stream " : " ");
  sig_puts(cfg.plugin);
  for (i = 0; i < cfg.argc; i++) {
    sig_puts(" '");
    sig_puts(cfg.argv[i]);
    sig_puts("'");
  }
  sig_puts("\n");
  _exit(1);
}

/* The frame a call returned lies in its guarded copy: move it back to
 * the framer's bytes, or say what is wrong with it. */
static void ct_check_frame(const ct_region_t *r, const uint8_t *in,
                           weft_decode_t *d) {
  if (d->frame_len == 0)
    return;
  if (d->frame != NULL && d->frame >= r->data && d->frame_len <= r->len &&
      d->frame <= r->data + r->len - d->frame_len) {
    d->frame = in + (d->frame - r->data);
    return;
  }
  if (d->frame != NULL && ct_in_quarantine(d->frame))
    ct_fail("%s() returned a frame inside the input of an earlier call: a "
            "codec must not keep pointers into its input past the call",
            now.call_fn);
  else
    ct_fail("%s() returned a frame (%zu bytes) outside its %zu-byte input",
            now.call_fn, d->frame_len, r->len);
  d->frame = NULL; /* the framer refuses it: WEFT_EPLUGIN */
}

static weft_decode_status_t ct_call(int eof, weft_codec_ctx_t *ctx,
                                    const uint8_t *in, size_t len,
                                    weft_decode_t *d) {
  weft_decode_status_t st;

  now.calls++;
  now.call_in = in;
  now.call_len = len;
  now.call_fn = eof ? "decode_eof" : "decode";
  cur = ct_guard_copy(in, len, (int)(now.calls & 1));
  now.in_call = 1;
  st = eof ? codec.vt->decode_eof(ctx, cur.data, len, d)
           : codec.vt->decode(ctx, cur.data, len, d);
  now.in_call = 0;
  if (st == WEFT_DECODE_FRAME) {
    if (d->consumed == 0 || d->consumed > len)
      ct_fail("%s() returned a frame that consumed %zu bytes of a %zu-byte "
              "input (1 to the input's length)",
              now.call_fn, d->consumed, len);
    ct_check_frame(&cur, in, d);
  }
  ct_guard_retire(&cur);
  return st;
}

static weft_decode_status_t ct_decode(weft_codec_ctx_t *ctx, const uint8_t *in,
                                      size_t len, weft_decode_t *d) {
  return ct_call(0, ctx, in, len, d);
}

static weft_decode_status_t ct_decode_eof(weft_codec_ctx_t *ctx,
                                          const uint8_t *in, size_t len,
                                          weft_decode_t *d) {
  return ct_call(1, ctx, in, len, d);
}

/* ------------------------------------------------------------------ */
/* Running a stream through the framer. */

typedef enum {
  CT_WHOLE,
  CT_BYTES,
  CT_AT,
  CT_RANDOM,
  CT_CHUNKS
} ct_split_kind_t;

typedef struct {
  ct_split_kind_t kind;
  uint64_t arg; /* CT_AT: the cut; CT_RANDOM: the seed; CT_CHUNKS: size */
  int stop_each;
} ct_split_t;

typedef struct {
  size_t n, cap;
  size_t *off, *len;
  uint8_t *data;
  size_t data_len, data_cap;
  int error;
  uint64_t error_offset;
  const char *reason;
  int error_at_eof;
  size_t max_pending;
  size_t reads;
} ct_result_t;

static void ct_result_free(ct_result_t *r) {
  free(r->off);
  free(r->len);
  free(r->data);
  memset(r, 0, sizeof(*r));
}

typedef struct {
  ct_result_t *r;
  int stop_each;
} ct_sink_t;

static int ct_on_frame(void *arg, const uint8_t *frame, size_t len) {
  ct_sink_t *k = arg;
  ct_result_t *r = k->r;

  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 64;
    r->off = realloc(r->off, r->cap * sizeof(size_t));
    r->len = realloc(r->len, r->cap * sizeof(size_t));
    if (r->off == NULL || r->len == NULL)
      exit(2);
  }
  if (r->data_len + len + 1 > r->data_cap) {
    while (r->data_len + len + 1 > r->data_cap)
      r->data_cap = r->data_cap ? 2 * r->data_cap : 4096;
    r->data = realloc(r->data, r->data_cap);
    if (r->data == NULL)
      exit(2);
  }
  /* The frame is copied now: it is valid during this call only. */
  if (len > 0)
    memcpy(r->data + r->data_len, frame, len);
  r->off[r->n] = r->data_len;
  r->len[r->n++] = len;
  r->data_len += len;
  return k->stop_each;
}

static void ct_describe(const ct_split_t *s, size_t len) {
  const char *stop = s->stop_each ? ", stopping after each frame" : "";

  switch (s->kind) {
  case CT_WHOLE:
    snprintf(now.split, sizeof(now.split), "one read of %zu bytes%s", len,
             stop);
    break;
  case CT_BYTES:
    snprintf(now.split, sizeof(now.split), "one byte per read%s", stop);
    break;
  case CT_AT:
    snprintf(now.split, sizeof(now.split), "two reads, split at byte %llu%s",
             (unsigned long long)s->arg, stop);
    break;
  case CT_RANDOM:
    snprintf(now.split, sizeof(now.split),
             "reads of random sizes, split seed %llu%s",
             (unsigned long long)s->arg, stop);
    break;
  case CT_CHUNKS:
    snprintf(now.split, sizeof(now.split), "reads of up to %llu bytes%s",
             (unsigned long long)s->arg, stop);
    break;
  }
}

static size_t ct_next_chunk(const ct_split_t *s, uint64_t *seed, size_t done,
                            size_t len) {
  size_t left = len - done, n;

  switch (s->kind) {
  case CT_BYTES:
    return 1;
  case CT_AT:
    return done < s->arg && s->arg < len ? (size_t)s->arg - done : left;
  case CT_RANDOM:
    n = (ct_rand(seed) & 3) != 0 ? 1 + ct_rand(seed) % 16
                                 : 1 + ct_rand(seed) % (left + 1);
    return n < left ? n : left;
  case CT_CHUNKS:
    n = 1 + ct_rand(seed) % s->arg;
    return n < left ? n : left;
  case CT_WHOLE:
  default:
    return left;
  }
}

/*
 * Read sizes for a large input.  Each decode call copies its whole input
 * into guard pages, and a frame's input grows by a read at a time, so
 * reads of 1/64 of it keep that copying near 32 times the input.
 */
static uint64_t ct_chunk(size_t len) {
  return len / 64 > 4096 ? len / 64 : 4096;
}

/* Feeds in[0..len) cut as s says, as the engine does; EOF if at_eof. */
static void ct_run(const uint8_t *in, size_t len, ct_split_t s, int at_eof,
                   ct_result_t *r) {
  weft__framer_t f;
  ct_sink_t k;
  void *conn_state = NULL;
  uint8_t *scratch, *base;
  size_t scratch_len, done = 0, chunk, avail, n;
  uint64_t seed = s.arg;
  int rc = 0;

  memset(r, 0, sizeof(*r));
  k.r = r;
  k.stop_each = s.stop_each;
  ct_describe(&s, len);
  now.stream = in;
  now.stream_len = len;
  /* As large as the input, so that CT_WHOLE is one read. */
  scratch_len = len > 16 ? len : 16;
  scratch = ct_alloc(scratch_len);
  if (codec.vt->conn_init != NULL &&
      codec.vt->conn_init(codec.state, &conn_state) != 0) {
    ct_fail("conn_init() failed");
    free(scratch);
    return;
  }
  weft__framer_init(&f, &shim, codec.state, conn_state, NULL);
  while (done < len && rc == 0) {
    chunk = ct_next_chunk(&s, &seed, done, len);
    while (chunk > 0 && rc == 0) {
      avail = weft__framer_read_buf(&f, scratch, scratch_len, &base);
      if (avail == 0) {
        fprintf(stderr, "weft-codec-test: out of memory\n");
        exit(2);
      }
      n = chunk < avail ? chunk : avail;
      memcpy(base, in + done, n);
      done += n;
      chunk -= n;
      r->reads++;
      rc = weft__framer_feed(&f, base, n, ct_on_frame, &k);
      while (rc == 1)
        rc = weft__framer_resume(&f, ct_on_frame, &k);
      if (rc == 0 && weft__framer_pending(&f) > r->max_pending)
        r->max_pending = weft__framer_pending(&f);
    }
  }
  if (rc == 0 && at_eof) {
    do
      rc = weft__framer_eof(&f, ct_on_frame, &k);
    while (rc == 1);
    r->error_at_eof = rc != 0;
  }
  if (rc < 0) {
    r->error = f.error;
    r->error_offset = f.error_offset;
    r->reason = f.reason;
  }
  weft__framer_free(&f);
  if (conn_state != NULL && codec.vt->conn_free != NULL)
    codec.vt->conn_free(codec.state, conn_state);
  free(scratch);
}

static void ct_outcome(char *b, size_t n, const ct_result_t *r) {
  snprintf(b, n, "%zu frame(s), %s%s%s%s", r->n,
           r->error ? weft_err_name(r->error) : "no error",
           r->error ? " \"" : "", r->error && r->reason ? r->reason : "",
           r->error ? "\"" : "");
  if (r->error) {
    size_t used = strlen(b);
    snprintf(b + used, n - used, " at byte %llu%s",
             (unsigned long long)r->error_offset,
             r->error_at_eof ? " (at EOF)" : "");
  }
}

/* Same frames, same error at the same offset. */
static int ct_same(const ct_result_t *a, const ct_result_t *b) {
  size_t i;

  if (a->n != b->n || a->error != b->error ||
      a->error_offset != b->error_offset || a->error_at_eof != b->error_at_eof)
    return 0;
  if (a->reason != b->reason && (a->reason == NULL || b->reason == NULL ||
                                 strcmp(a->reason, b->reason) != 0))
    return 0;
  for (i = 0; i < a->n; i++)
    if (a->len[i] != b->len[i] ||
        memcmp(a->data + a->off[i], b->data + b->off[i], a->len[i]) != 0)
      return 0;
  return 1;
}

/* Compares a run with a reference run; reports the first difference. */
static int ct_expect_same(const ct_result_t *want, const ct_result_t *got,
                          const char *ref) {
  char w[256], g[256];

  if (cfg.stream) {
    /* Only the bytes count, and the error. */
    if (want->data_len == got->data_len &&
        memcmp(want->data, got->data, want->data_len) == 0 &&
        want->error == got->error)
      return 1;
  } else if (ct_same(want, got)) {
    return 1;
  }
  ct_outcome(w, sizeof(w), want);
  ct_outcome(g, sizeof(g), got);
  ct_fail("got %s; %s gives %s", g, ref, w);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Frames from the encoder. */

typedef struct {
  size_t n, cap;
  uint8_t **frame;
  size_t *len;
  size_t *wire_end; /* offset in the stream where frame i ends */
  weft__buf_t wire;
} ct_frames_t;

static size_t max_len;      /* the largest frame the encoder takes */
static size_t max_wire;     /* its wire size */
static int unbounded;       /* the encoder took CT_CAP bytes */
static size_t accepted[32]; /* lengths the encoder took, for generators */
static size_t naccepted;
static uint8_t fill_byte = 'x'; /* a byte the encoder takes frames of */

static int ct_encode(const void *frame, size_t len, weft__buf_t *out) {
  weft_codec_ctx_t ctx;
  weft_out_t o;
  size_t before = out->len;
  int r;

  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = &shim;
  ctx.state = codec.state;
  o.buf = out;
  o.zc = NULL; /* no zero-copy outside a connection */
  r = codec.vt->encode(&ctx, frame, len, &o);
  if (r != 0)
    out->len = before; /* as weft_conn_send() does */
  return r;
}

/* Whether the encoder takes a frame of len bytes of fill_byte; its wire
 * size in *wire. */
static int ct_takes(size_t len, size_t *wire) {
  weft__buf_t b;
  uint8_t *p = ct_alloc(len);
  int r;

  memset(p, fill_byte, len);
  memset(&b, 0, sizeof(b));
  r = ct_encode(p, len, &b);
  if (wire != NULL)
    *wire = b.len;
  weft__buf_free(&b);
  free(p);
  return r;
}

/* Finds the largest frame the encoder takes, and some lengths it takes. */
static int ct_probe(void) {
  static const uint8_t fills[] = {'x', 'a', '0', 0x00, 0xff, 0x55};
  size_t lo, hi, mid, i, w;

  now.check = "probe";
  {
    /* An empty frame may come as NULL. */
    weft__buf_t b;
    memset(&b, 0, sizeof(b));
    ct_encode(NULL, 0, &b);
    weft__buf_free(&b);
  }
  /* A byte value the encoder is happy with (a delimiter byte is not). */
  for (i = 0; i < sizeof(fills); i++) {
    fill_byte = fills[i];
    if (ct_takes(1, NULL) != WEFT_EINVAL && ct_takes(2, NULL) != WEFT_EINVAL)
      break;
  }
  /* The largest length not refused as too big; the encoder may still
   * refuse lengths below it for other reasons (fixed sizes). */
  if (ct_takes(CT_CAP, NULL) != WEFT_EMSGSIZE) {
    unbounded = 1;
    max_len = 65536;
  } else {
    lo = 0;
    hi = CT_CAP;
    while (hi - lo > 1) {
      mid = lo + (hi - lo) / 2;
      if (ct_takes(mid, NULL) == WEFT_EMSGSIZE)
        hi = mid;
      else
        lo = mid;
    }
    max_len = ct_takes(0, NULL) == WEFT_EMSGSIZE ? 0 : lo;
  }
  for (i = 0; i <= 64 && naccepted < 16; i++)
    if (i <= max_len && ct_takes(i, NULL) == 0)
      accepted[naccepted++] = i;
  for (i = 0; i < 8 && naccepted < 32; i++) {
    size_t len = i < 4 ? max_len - i : max_len / (i - 2);
    if (len > 64 && len <= max_len && ct_takes(len, NULL) == 0)
      accepted[naccepted++] = len;
  }
  if (naccepted == 0) {
    ct_fail("the encoder takes no frame of 0 to 64 bytes, nor of %zu", max_len);
    return -1;
  }
  if (ct_takes(max_len, &w) == 0) {
    max_wire = w;
  } else {
    /* The largest taken length is then the largest in accepted[]. */
    for (i = 0; i < naccepted; i++)
      if (ct_takes(accepted[i], &w) == 0 && w > max_wire)
        max_wire = w;
  }
  return 0;
}

static void ct_frames_free(ct_frames_t *fs) {
  size_t i;

  for (i = 0; i < fs->n; i++)
    free(fs->frame[i]);
  free(fs->frame);
  free(fs->len);
  free(fs->wire_end);
  weft__buf_free(&fs->wire);
  memset(fs, 0, sizeof(*fs));
}

/* Appends one frame the encoder takes, of about want bytes. */
static void ct_frames_add(ct_frames_t *fs, uint64_t *seed, size_t want) {
  uint8_t *p;
  size_t len, t, i;
  int r = -1;

  if (fs->n == fs->cap) {
    fs->cap = fs->cap ? 2 * fs->cap : 64;
    fs->frame = realloc(fs->frame, fs->cap * sizeof(*fs->frame));
    fs->len = realloc(fs->len, fs->cap * sizeof(size_t));
    fs->wire_end = realloc(fs->wire_end, fs->cap * sizeof(size_t));
    if (fs->frame == NULL || fs->len == NULL || fs->wire_end == NULL)
      exit(2);
  }
  len = want <= max_len ? want : max_len;
  /* Random bytes; if the encoder refuses those (a delimiter inside),
   * random letters, then one byte repeated; if it refuses the length
   * itself, a length it took before. */
  for (t = 0; t < 12; t++) {
    if (t == 6)
      len = accepted[ct_rand(seed) % naccepted];
    p = ct_alloc(len);
    if (t % 3 == 0)
      ct_rand_bytes(seed, p, len);
    else if (t % 3 == 1)
      for (i = 0; i < len; i++)
        p[i] = (uint8_t)('a' + ct_rand(seed) % 26);
    else
      memset(p, fill_byte, len);
    r = ct_encode(p, len, &fs->wire);
    if (r == 0) {
      fs->frame[fs->n] = p;
      break;
    }
    free(p);
    if (r != WEFT_EINVAL && t < 6)
      t = 5; /* the length itself is refused */
  }
  if (r != 0) {
    ct_fail("the encoder refused every frame of %zu bytes tried, including "
            "ones of a length it took before",
            len);
    exit(1);
  }
  fs->len[fs->n] = len;
  fs->wire_end[fs->n] = fs->wire.len;
  fs->n++;
}

/* A length for a random frame: mostly small, sometimes up to 4k. */
static size_t ct_pick_len(uint64_t *seed, size_t small) {
  uint64_t k = ct_rand(seed) % 16;

  if (k == 0)
    return accepted[ct_rand(seed) % naccepted];
  if (k < 12)
    return ct_rand(seed) % (small + 1);
  return ct_rand(seed) % 4097;
}

/* Checks a run of fs's stream gave exactly fs's frames, no error. */
static int ct_expect_frames(const ct_frames_t *fs, const ct_result_t *r) {
  char got[256];
  size_t i, at = 0;

  if (r->error != 0) {
    ct_outcome(got, sizeof(got), r);
    ct_fail("a stream of %zu encoded frames gave %s", fs->n, got);
    return 0;
  }
  if (cfg.stream) {
    for (i = 0; i < fs->n; i++) {
      if (at + fs->len[i] > r->data_len ||
          memcmp(r->data + at, fs->frame[i], fs->len[i]) != 0) {
        ct_fail("the bytes of frame %zu did not come back", i);
        return 0;
      }
      at += fs->len[i];
    }
    return 1;
  }
  if (r->n != fs->n) {
    ct_fail("%zu frames encoded, %zu decoded", fs->n, r->n);
    return 0;
  }
  for (i = 0; i < fs->n; i++)
    if (r->len[i] != fs->len[i] ||
        memcmp(r->data + r->off[i], fs->frame[i], fs->len[i]) != 0) {
      ct_fail("frame %zu: encoded %zu bytes, decoded %zu bytes%s", i,
              fs->len[i], r->len[i],
              r->len[i] == fs->len[i] ? " that differ" : "");
      return 0;
    }
  return 1;
}

/* ------------------------------------------------------------------ */
/* The checks. */

static void ct_ok(const char *fmt, ...) WEFT_PRINTF(1, 2);

static void ct_ok(const char *fmt, ...) {
  va_list ap;

  printf("ok   %s: ", now.check);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

/* Byte by byte is in the splits check, on a smaller stream: each decode
 * call costs two mprotect() calls. */
static void check_round_trip(uint64_t seed) {
  static const ct_split_t splits[] = {{CT_WHOLE, 0, 0},  {CT_WHOLE, 0, 1},
                                      {CT_RANDOM, 1, 0}, {CT_RANDOM, 2, 1},
                                      {CT_RANDOM, 3, 0}, {CT_CHUNKS, 4096, 0}};
  ct_frames_t fs;
  ct_result_t r;
  size_t i;
  unsigned before = failures;

  now.check = "round trip";
  memset(&fs, 0, sizeof(fs));
  for (i = 0; i < cfg.frames; i++)
    ct_frames_add(&fs, &seed, ct_pick_len(&seed, 64));
  for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
    ct_split_t s = splits[i];
    if (s.kind == CT_RANDOM)
      s.arg = seed + i;
    ct_run(fs.wire.base, fs.wire.len, s, 1, &r);
    if (!ct_expect_frames(&fs, &r))
      i = sizeof(splits); /* one report is enough */
    ct_result_free(&r);
  }
  if (failures == before)
    ct_ok("%zu frames, %zu bytes: the same frames back, read whole and in "
          "random pieces",
          fs.n, fs.wire.len);
  ct_frames_free(&fs);
  now.stream = NULL;
  now.split[0] = '\0';
}

/* A stream of small frames, split at every point. */
static void ct_small_stream(ct_frames_t *fs, uint64_t *seed) {
  memset(fs, 0, sizeof(*fs));
  while (fs->n < 24 && fs->wire.len < CT_SMALL / 2)
    ct_frames_add(fs, seed, ct_rand(seed) % 24);
}

static void check_splits(uint64_t seed) {
  ct_frames_t fs;
  ct_result_t whole, r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  size_t i;
  unsigned before = failures;

  now.check = "splits";
  ct_small_stream(&fs, &seed);
  ct_run(fs.wire.base, fs.wire.len, s, 1, &whole);
  if (ct_expect_frames(&fs, &whole)) {
    for (i = 0; i < fs.wire.len + 1; i++) {
      if (i == 0) {
        s.kind = CT_BYTES;
      } else if (i == 1) {
        s.stop_each = 1; /* and the framer resumes after each frame */
      } else {
        s.kind = CT_AT;
        s.arg = i - 1;
        s.stop_each = 0;
      }
      ct_run(fs.wire.base, fs.wire.len, s, 1, &r);
      if (!ct_expect_same(&whole, &r, "one read"))
        i = fs.wire.len + 1;
      ct_result_free(&r);
    }
  }
  ct_result_free(&whole);
  if (failures == before)
    ct_ok("%zu frames, %zu bytes: alike byte by byte and split at each of "
          "its %zu points",
          fs.n, fs.wire.len, fs.wire.len - 1);
  ct_frames_free(&fs);
  now.stream = NULL;
  now.split[0] = '\0';
}

/* Every cut of a stream gives the frames wholly before it and, unless
 * the cut falls between frames, an error at EOF. */
static void check_truncation(uint64_t seed) {
  ct_frames_t fs;
  ct_result_t r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  size_t cut, whole_frames, i;
  int boundary;
  unsigned before = failures;
  char got[256];

  now.check = "truncation";
  ct_small_stream(&fs, &seed);
  for (cut = 1; cut < fs.wire.len; cut++) {
    for (whole_frames = 0, boundary = 0; whole_frames < fs.n; whole_frames++) {
      if (fs.wire_end[whole_frames] >= cut) {
        boundary = fs.wire_end[whole_frames] == cut;
        break;
      }
    }
    if (boundary)
      whole_frames++;
    s.kind = cut % 16 ? CT_WHOLE : CT_BYTES;
    ct_run(fs.wire.base, cut, s, 1, &r);
    ct_outcome(got, sizeof(got), &r);
    if (r.n != whole_frames) {
      ct_fail("cut after %zu of %zu bytes: %zu whole frames before the cut, "
              "got %s",
              cut, fs.wire.len, whole_frames, got);
      cut = fs.wire.len;
    } else if (boundary ? r.error != 0 : !r.error_at_eof) {
      ct_fail("cut after %zu of %zu bytes, %s: got %s", cut, fs.wire.len,
              boundary ? "between frames, want no error"
                       : "inside a frame, want an error at EOF",
              got);
      cut = fs.wire.len;
    } else {
      for (i = 0; i < r.n; i++)
        if (r.len[i] != fs.len[i] ||
            memcmp(r.data + r.off[i], fs.frame[i], fs.len[i]) != 0) {
          ct_fail("cut after %zu bytes: frame %zu differs", cut, i);
          cut = fs.wire.len;
          break;
        }
    }
    ct_result_free(&r);
  }
  if (failures == before)
    ct_ok("each of %zu cuts of a %zu-frame stream: the frames before it, "
          "then an error at EOF",
          fs.wire.len - 1, fs.n);
  ct_frames_free(&fs);
  now.stream = NULL;
  now.split[0] = '\0';
}

static void check_max(uint64_t seed) {
  ct_frames_t fs;
  ct_result_t r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  unsigned before = failures;

  now.check = "max frame";
  memset(&fs, 0, sizeof(fs));
  ct_frames_add(&fs, &seed, max_len);
  ct_frames_add(&fs, &seed, 0);
  ct_run(fs.wire.base, fs.wire.len, s, 1, &r);
  ct_expect_frames(&fs, &r);
  ct_result_free(&r);
  s.kind = fs.wire.len <= 65536 ? CT_BYTES : CT_CHUNKS;
  s.arg = ct_chunk(fs.wire.len);
  ct_run(fs.wire.base, fs.wire.len, s, 1, &r);
  ct_expect_frames(&fs, &r);
  ct_result_free(&r);
  if (failures == before)
    ct_ok("a frame of %zu bytes (the largest the encoder takes), %zu on the "
          "wire",
          fs.len[0], fs.wire_end[0]);
  ct_frames_free(&fs);
  now.stream = NULL;
  now.split[0] = '\0';
}

/* Creates an instance of the plugin with the command line's options, plus
 * or instead of `extra`=`value`; errors are printed when `loud`. */
static int ct_create(const ct_codec_t *c, const char *extra, const char *value,
                     int loud, void **state);

static weft__plugin_t *plugin;

/*
 * One byte over the limit: a second instance with a larger limit option
 * encodes a frame one byte longer than this one takes; this one must fail
 * on it, deliver no frame, and hold no more than its largest frame.
 */
static void check_limit(uint64_t seed) {
  char value[32];
  const char *name = NULL;
  void *big = NULL;
  weft__buf_t wire;
  weft_codec_ctx_t ctx;
  weft_out_t o;
  ct_result_t r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  uint8_t *p;
  size_t i, len = max_len + 1;
  unsigned before = failures;
  char got[256];

  now.check = "over limit";
  if (unbounded) {
    ct_ok("skipped: the encoder takes frames of %zu bytes and more", CT_CAP);
    return;
  }
  snprintf(value, sizeof(value), "%zu", 2 * len + 4096);
  if (cfg.limit != NULL) {
    name = cfg.limit;
    if (ct_create(&codec, name, value, 1, &big) != 0)
      big = NULL;
  } else {
    /* The first of the usual names this codec takes. */
    for (i = 0; ct_limit_names[i] != NULL && big == NULL; i++) {
      name = ct_limit_names[i];
      if (ct_create(&codec, name, value, 0, &big) != 0)
        big = NULL;
    }
  }
  if (big == NULL) {
    ct_ok("skipped: no option of %s raises the limit (name it with "
          "--limit)",
          cfg.limit ? cfg.limit : "max_length, max_frame, max_size");
    return;
  }
  p = ct_alloc(len);
  memset(&wire, 0, sizeof(wire));
  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = &shim;
  ctx.state = big;
  o.buf = &wire;
  o.zc = NULL;
  for (i = 0; i < 4; i++) {
    if (i < 2)
      ct_rand_bytes(&seed, p, len);
    else
      memset(p, i == 2 ? fill_byte : 'a', len);
    if (codec.vt->encode(&ctx, p, len, &o) == 0)
      break;
    wire.len = 0;
  }
  if (codec.vt->destroy != NULL)
    codec.vt->destroy(big);
  if (i == 4) {
    ct_ok("skipped: with %s = %s the encoder still refuses %zu bytes (the "
          "format's own limit?)",
          name, value, len);
  } else {
    for (i = 0; i < 2; i++) {
      s.kind = i == 0 ? CT_WHOLE : wire.len <= 65536 ? CT_BYTES : CT_CHUNKS;
      s.arg = ct_chunk(wire.len);
      ct_run(wire.base, wire.len, s, 0, &r);
      ct_outcome(got, sizeof(got), &r);
      if (r.error == 0 || r.n > 0)
        ct_fail("a frame of %zu bytes, one more than the largest the encoder "
                "takes (encoded with %s = %s): want an error and no frame, "
                "got %s",
                len, name, value, got);
      else if (r.max_pending > max_wire + CT_SLACK)
        ct_fail("the decoder held %zu bytes of a frame over the limit, more "
                "than the largest frame (%zu bytes on the wire)",
                r.max_pending, max_wire);
      ct_result_free(&r);
      if (failures != before)
        break;
    }
    if (failures == before)
      ct_ok("a frame of %zu bytes (%zu on the wire, by %s = %s): %s", len,
            wire.len, name, value, got);
  }
  free(p);
  weft__buf_free(&wire);
  now.stream = NULL;
  now.split[0] = '\0';
}

/*
 * Hostile streams: whatever the bytes, the framer never holds more than
 * the largest frame, and reads split anyhow give the same result.
 */
static void check_garbage(uint64_t seed) {
  static const char *const kinds[] = {"random", "zeros", "0xff",
                                      "'a'",    "'9'",   "ascii digits"};
  ct_result_t whole, r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  size_t len, k, i, held = 0;
  uint8_t *g;
  unsigned before = failures;
  int bound = !unbounded && max_wire <= ((size_t)1 << 20);

  now.check = "garbage";
  len = bound ? 2 * max_wire + 4096 : 65536;
  g = ct_alloc(len);
  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    switch (k) {
    case 0:
      ct_rand_bytes(&seed, g, len);
      break;
    case 5:
      for (i = 0; i < len; i++)
        g[i] = (uint8_t)('0' + ct_rand(&seed) % 10);
      break;
    default:
      memset(g, k == 1 ? 0 : k == 2 ? 0xff : k == 3 ? 'a' : '9', len);
    }
    s.kind = CT_WHOLE;
    s.stop_each = 0;
    ct_run(g, len, s, 0, &whole);
    s.kind = len <= 16384 ? CT_RANDOM : CT_CHUNKS;
    s.arg = len <= 16384 ? seed + k : ct_chunk(len);
    s.stop_each = (int)(k & 1);
    ct_run(g, len, s, 0, &r);
    if (!cfg.stream)
      ct_expect_same(&whole, &r, "one read");
    if (bound && r.max_pending > max_wire + CT_SLACK)
      ct_fail("%s bytes: the decoder held %zu bytes without a frame or an "
              "error, more than the largest frame the encoder writes (%zu "
              "bytes): a peer could grow this connection without bound",
              kinds[k], r.max_pending, max_wire);
    if (r.max_pending > held)
      held = r.max_pending;
    ct_result_free(&whole);
    ct_result_free(&r);
    if (failures != before)
      break;
  }
  free(g);
  if (failures == before) {
    if (bound)
      ct_ok("6 streams of %zu bytes: never more than %zu bytes held (the "
            "largest frame is %zu)",
            len, held, max_wire);
    else
      ct_ok("6 streams of %zu bytes decoded alike however split (frames of "
            "%zu bytes and more: no bound checked)",
            len, max_wire);
  }
  now.stream = NULL;
  now.split[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* --decode: one input, fed as --split says, with the result printed. */

static int ct_hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* "00 0a ff 'text'": hex pairs, spaces anywhere, quoted text literally. */
static uint8_t *ct_parse_hex(const char *s, size_t *len) {
  uint8_t *out = ct_alloc(strlen(s) + 1);
  size_t n = 0;
  int hi, lo;

  while (*s != '\0') {
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == ':') {
      s++;
    } else if (*s == '\'') {
      for (s++; *s != '\0' && *s != '\''; s++)
        out[n++] = (uint8_t)*s;
      if (*s == '\'')
        s++;
    } else {
      hi = ct_hex_digit(s[0]);
      lo = hi < 0 ? -1 : ct_hex_digit(s[1]);
      if (lo < 0) {
        fprintf(stderr, "weft-codec-test: --decode: bad hex at \"%.8s\"\n", s);
        exit(2);
      }
      out[n++] = (uint8_t)(hi << 4 | lo);
      s += 2;
    }
  }
  *len = n;
  return out;
}

static int ct_decode_one(void) {
  ct_split_t s = {CT_WHOLE, 0, 0};
  ct_result_t r;
  uint8_t *in;
  size_t len, i;
  char out[256];

  now.check = "decode";
  in = ct_parse_hex(cfg.decode, &len);
  if (cfg.split == NULL || strcmp(cfg.split, "whole") == 0)
    s.kind = CT_WHOLE;
  else if (strcmp(cfg.split, "bytes") == 0)
    s.kind = CT_BYTES;
  else if (strncmp(cfg.split, "random:", 7) == 0) {
    s.kind = CT_RANDOM;
    s.arg = strtoull(cfg.split + 7, NULL, 0);
  } else {
    s.kind = CT_AT;
    s.arg = strtoull(cfg.split, NULL, 0);
  }
  ct_run(in, len, s, 1, &r);
  printf("fed as: %s\n", now.split);
  for (i = 0; i < r.n; i++) {
    snprintf(out, sizeof(out), "frame %zu", i);
    ct_hex(stdout, out, r.data + r.off[i], r.len[i]);
  }
  ct_outcome(out, sizeof(out), &r);
  printf("%s; %lu decode calls\n", out, now.calls);
  ct_result_free(&r);
  free(in);
  return failures > 0 ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Loading. */

/* NAME=VALUE: an integer, true/false, a float, or else a string; a value
 * in double quotes is always a string. */
static int ct_add_option(weft_opts_t *o, const char *arg, int line) {
  const char *eq = strchr(arg, '=');
  char name[128], *end;
  const char *v;
  size_t n;
  long long i;
  double d;

  if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
    fprintf(stderr, "weft-codec-test: \"%s\" is not NAME=VALUE\n", arg);
    return -1;
  }
  memcpy(name, arg, (size_t)(eq - arg));
  name[eq - arg] = '\0';
  v = eq + 1;
  n = strlen(v);
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    char *s = ct_alloc(n - 1);
    int r;
    memcpy(s, v + 1, n - 2);
    s[n - 2] = '\0';
    r = weft__opts_add_str(o, name, s, line);
    free(s);
    return r;
  }
  if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
    return weft__opts_add_bool(o, name, v[0] == 't', line);
  errno = 0;
  i = strtoll(v, &end, 0);
  if (*v != '\0' && *end == '\0' && errno == 0)
    return weft__opts_add_int(o, name, i, line);
  d = strtod(v, &end);
  if (*v != '\0' && *end == '\0' && strchr(v, '.') != NULL)
    return weft__opts_add_float(o, name, d, line);
  return weft__opts_add_str(o, name, v, line);
}

static int ct_create(const ct_codec_t *c, const char *extra, const char *value,
                     int loud, void **state) {
  weft_opts_t *o;
  char arg[256];
  size_t i, n;
  int r = 0, line;

  o = weft__opts_new("codec", c->desc->name, "command line");
  if (o == NULL)
    return WEFT_ENOMEM;
  for (line = 0; line < cfg.argc && r == 0; line++) {
    if (extra != NULL && strncmp(cfg.argv[line], extra, strlen(extra)) == 0 &&
        cfg.argv[line][strlen(extra)] == '=')
      continue; /* replaced */
    r = ct_add_option(o, cfg.argv[line], line + 1);
  }
  if (r == 0 && extra != NULL) {
    snprintf(arg, sizeof(arg), "%s=%s", extra, value);
    r = ct_add_option(o, arg, cfg.argc + 1);
  }
  *state = NULL;
  if (r == 0) {
    r = c->vt->create != NULL ? c->vt->create(o, state) : 0;
    if (r == 0) {
      weft__opts_check_unused(o);
      if (weft__opts_nerrors(o) > 0) {
        if (c->vt->destroy != NULL)
          c->vt->destroy(*state);
        *state = NULL;
        r = WEFT_EINVAL;
      }
    }
  }
  n = weft__opts_nerrors(o);
  if (loud) {
    for (i = 0; i < n; i++)
      fprintf(stderr, "weft-codec-test: %s\n", weft__opts_error(o, i));
    if (r != 0 && n == 0)
      fprintf(stderr, "weft-codec-test: codec \"%s\": create failed: %s\n",
              c->desc->name, weft_strerror(r));
  }
  weft__opts_free(o);
  return r;
}

static void ct_usage(FILE *f) {
  fprintf(f,
          "usage: weft-codec-test [options] PLUGIN [NAME=VALUE ...]\n"
          "Checks a weft codec plugin (a file path, or a name looked up in\n"
          "%s) against the decoder contract, with the options\n"
          "given (integers, true/false, or strings: NAME='\"8\"' forces one).\n"
          "  -s, --seed N       random seed (default 1)\n"
          "  -n, --frames N     frames per round trip (default 200)\n"
          "  -l, --limit NAME   the option that bounds a frame's size\n"
          "                     (tried by default: max_length, max_frame, "
          "max_size)\n"
          "      --stream       the codec does not keep frame boundaries "
          "(raw):\n"
          "                     compare bytes, not frames\n"
          "      --skip CHECK   skip roundtrip, splits, truncation, max, "
          "limit or\n"
          "                     garbage (repeatable)\n"
          "      --decode HEX   only decode this input (\"00 0a 'text'\"), "
          "guarded,\n"
          "                     and print the frames and the error\n"
          "      --split HOW    for --decode: whole, bytes, N (two reads cut "
          "at N)\n"
          "                     or random:SEED\n"
          "  -h, --help\n"
          "Exit status: 0 all checks passed, 1 a check failed, 2 the plugin\n"
          "could not be tested.\n",
          WEFT_PLUGINDIR);
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"seed", required_argument, NULL, 's'},
      {"frames", required_argument, NULL, 'n'},
      {"limit", required_argument, NULL, 'l'},
      {"stream", no_argument, NULL, 'S'},
      {"skip", required_argument, NULL, 'k'},
      {"decode", required_argument, NULL, 'x'},
      {"split", required_argument, NULL, 'p'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  weft__plugins_t reg;
  struct sigaction sa;
  char err[2048];
  size_t i;
  int ch, known;

  cfg.seed = 1;
  cfg.frames = 200;
  while ((ch = getopt_long(argc, argv, "s:n:l:vh", longopts, NULL)) != -1) {
    switch (ch) {
    case 's':
      cfg.seed = strtoull(optarg, NULL, 0);
      break;
    case 'n':
      cfg.frames = (size_t)strtoul(optarg, NULL, 0);
      if (cfg.frames == 0)
        cfg.frames = 1;
      break;
    case 'l':
      cfg.limit = optarg;
      break;
    case 'S':
      cfg.stream = 1;
      break;
    case 'k':
      for (i = 0, known = 0; i < sizeof(ct_checks) / sizeof(ct_checks[0]); i++)
        if (strcmp(optarg, ct_checks[i].name) == 0) {
          cfg.skip |= ct_checks[i].bit;
          known = 1;
        }
      if (!known) {
        fprintf(stderr, "weft-codec-test: unknown check \"%s\"\n", optarg);
        return 2;
      }
      break;
    case 'x':
      cfg.decode = optarg;
      break;
    case 'p':
      cfg.split = optarg;
      break;
    case 'v':
      cfg.verbose++;
      break;
    case 'h':
      ct_usage(stdout);
      return 0;
    default:
      ct_usage(stderr);
      return 2;
    }
  }
  if (optind >= argc) {
    ct_usage(stderr);
    return 2;
  }
  cfg.plugin = argv[optind];
  cfg.argc = argc - optind - 1;
  cfg.argv = argv + optind + 1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  pagesz = (size_t)sysconf(_SC_PAGESIZE);

  if (weft__plugins_init(&reg, NULL, 0, WEFT_PLUGINDIR) != 0) {
    fprintf(stderr, "weft-codec-test: cannot start the plugin loader\n");
    return 2;
  }
  plugin = weft__plugin_load(&reg, strchr(cfg.plugin, '/') ? NULL : cfg.plugin,
                             strchr(cfg.plugin, '/') ? cfg.plugin : NULL,
                             WEFT_PLUGIN_CODEC, err, sizeof(err));
  if (plugin == NULL) {
    fprintf(stderr, "weft-codec-test: %s\n", err);
    weft__plugins_destroy(&reg);
    return 2;
  }
  codec.desc = plugin->desc;
  codec.vt = &plugin->codec;
  if (ct_create(&codec, NULL, NULL, 1, &codec.state) != 0) {
    weft__plugins_destroy(&reg);
    return 2;
  }
  shim = plugin->codec;
  shim.decode = ct_decode;
  shim.decode_eof = codec.vt->decode_eof != NULL ? ct_decode_eof : NULL;

  /* Faults inside decode are the plugin's: report them, with the input. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = ct_on_fault;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);

  if (cfg.decode != NULL) {
    i = (size_t)ct_decode_one();
    if (codec.vt->destroy != NULL)
      codec.vt->destroy(codec.state);
    weft__plugin_release(&reg, plugin);
    weft__plugins_destroy(&reg);
    return (int)i;
  }

  printf("weft-codec-test: codec \"%s\" %s from %s", codec.desc->name,
         codec.desc->version ? codec.desc->version : "", plugin->file);
  for (i = 0; i < (size_t)cfg.argc; i++)
    printf("%s%s", i ? " " : ", options: ", cfg.argv[i]);
  printf(", seed %llu\n", (unsigned long long)cfg.seed);

  if (ct_probe() == 0) {
    now.check = "probe";
    ct_ok("the encoder takes frames of up to %zu%s bytes (%zu on the wire)",
          max_len, unbounded ? "+" : "", max_wire);
    if (!(cfg.skip & CT_SKIP_ROUNDTRIP))
      check_round_trip(cfg.seed);
    if (!(cfg.skip & CT_SKIP_SPLITS))
      check_splits(cfg.seed + 1);
    if (!(cfg.skip & CT_SKIP_TRUNC) && !cfg.stream)
      check_truncation(cfg.seed + 2);
    if (!(cfg.skip & CT_SKIP_MAX))
      check_max(cfg.seed + 3);
    if (!(cfg.skip & CT_SKIP_LIMIT) && !cfg.stream)
      check_limit(cfg.seed + 4);
    if (!(cfg.skip & CT_SKIP_GARBAGE))
      check_garbage(cfg.seed + 5);
  }

  now.check = "guard";
  if (failures == 0)
    ct_ok("%lu decode calls, each on a guarded copy of its input: none read "
          "outside it or kept a pointer into it",
          now.calls);
  for (i = 0; i < CT_QUARANTINE; i++)
    if (quarantine[i].map != NULL)
      munmap(quarantine[i].map, quarantine[i].maplen);
  if (codec.vt->destroy != NULL)
    codec.vt->destroy(codec.state);
  weft__plugin_release(&reg, plugin);
  weft__plugins_destroy(&reg);
  if (failures > 0) {
    printf("weft-codec-test: %u check(s) FAILED\n", failures);
    return 1;
  }
  printf("weft-codec-test: all checks passed\n");
  return 0;
}
