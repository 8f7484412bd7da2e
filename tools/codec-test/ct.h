/*
 * weft-codec-test: checks a codec plugin against the decoder contract of
 * weft-codec(3).  See weft-codec-test(1).  The program's parts:
 *
 *   util.c    options, reports, random numbers;
 *   guard.c   each decode call on a guarded copy of its input, and the
 *             fault handler that reports a read outside it;
 *   run.c     feeding a stream to the engine's framer, split some way;
 *   frames.c  frames from the plugin's own encoder;
 *   checks.c  the checks;
 *   main.c    the command line, loading and creating the plugin.
 */
#ifndef WEFT_TOOLS_CT_H
#define WEFT_TOOLS_CT_H

#include <stdarg.h>
#include <stdio.h>

#include <weft/weft.h>

#include "buf.h"
#include "framer.h"
#include "plugin_loader.h"

/* Frames larger than this are not built: the encoder is "unbounded". */
#define CT_CAP ((size_t)16 << 20)
/* Streams for the split-at-every-point and truncation checks stay small. */
#define CT_SMALL 1024
/* What the framer may hold beyond the largest frame the encoder writes:
 * room for a longer header than the encoder's own (protobuf's varints
 * may take 10 bytes where the encoder writes 1). */
#define CT_SLACK 64

/* ---- util.c ---- */

/* The command line. */
typedef struct {
  const char *plugin;
  uint64_t seed;
  size_t frames;     /* frames per round trip */
  int stream;        /* frame boundaries are not kept (raw) */
  const char *limit; /* the option bounding a frame, if named */
  unsigned skip;     /* CT_SKIP_* bits */
  int argc;
  char **argv;        /* NAME=VALUE options */
  const char *decode; /* --decode HEX: run this input only */
  const char *split;  /* --split: how to feed it */
} ct_config_t;

enum {
  CT_SKIP_ROUNDTRIP = 1,
  CT_SKIP_SPLITS = 2,
  CT_SKIP_TRUNC = 4,
  CT_SKIP_MAX = 8,
  CT_SKIP_LIMIT = 16,
  CT_SKIP_GARBAGE = 32,
};

typedef struct {
  const weft_plugin_t *desc;
  const weft_codec_vtable_t *vt; /* the plugin's own, sized for this weft */
  void *state;
} ct_codec_t;

/* What is running, for reports; the fault handler reads it too. */
typedef struct {
  const char *check;
  char split[128];
  const uint8_t *stream;
  size_t stream_len;
  const uint8_t *call_in; /* the current call's input, as the framer had it */
  size_t call_len;
  const char *call_fn;
  unsigned long calls; /* decode calls so far, in all checks */
  int in_call;
} ct_now_t;

extern ct_config_t ct_cfg;
extern ct_codec_t ct_codec;         /* the instance under test */
extern weft_codec_vtable_t ct_shim; /* its vtable, decode calls guarded */
extern ct_now_t ct_now;
extern unsigned ct_failures;

/* A short random generator (splitmix64): reproducible from --seed. */
uint64_t ct_rand(uint64_t *s);
void ct_rand_bytes(uint64_t *s, uint8_t *p, size_t n);
/* malloc, or exit 2. */
void *ct_alloc(size_t n);
/* Prints up to 256 bytes of p as hex, with the total. */
void ct_hex(FILE *f, const char *what, const uint8_t *p, size_t n);
/* Reports one failure of the running check, with how to reproduce it. */
void ct_fail(const char *fmt, ...) WEFT_PRINTF(1, 2);
/* Reports that the running check passed. */
void ct_ok(const char *fmt, ...) WEFT_PRINTF(1, 2);
/* Forgets the running stream, at the end of a check. */
void ct_done(void);

/* ---- guard.c ---- */

/* Installs the fault handler. */
void ct_guard_init(void);
/* Unmaps what is left. */
void ct_guard_free(void);
/* The plugin's decode() and decode_eof(), each call on a guarded copy. */
weft_decode_status_t ct_decode(weft_codec_ctx_t *ctx, const uint8_t *in,
                               size_t len, weft_decode_t *d);
weft_decode_status_t ct_decode_eof(weft_codec_ctx_t *ctx, const uint8_t *in,
                                   size_t len, weft_decode_t *d);

/* ---- run.c ---- */

typedef enum {
  CT_WHOLE,  /* one read */
  CT_BYTES,  /* one byte per read */
  CT_AT,     /* two reads, cut at arg */
  CT_RANDOM, /* reads of random sizes, seeded with arg */
  CT_CHUNKS  /* reads of 1 to arg bytes */
} ct_split_kind_t;

typedef struct {
  ct_split_kind_t kind;
  uint64_t arg;
  int stop_each; /* stop the framer after each frame, then resume */
} ct_split_t;

/* What a run gave: the frames, copied, and the error. */
typedef struct {
  size_t n, cap;
  size_t *off, *len;
  uint8_t *data;
  size_t data_len, data_cap;
  int error;
  uint64_t error_offset;
  const char *reason;
  int error_at_eof;
  size_t max_pending; /* the most the framer held between reads */
  size_t reads;
} ct_result_t;

/* Feeds in[0..len) cut as s says, as the engine does; EOF if at_eof. */
void ct_run(const uint8_t *in, size_t len, ct_split_t s, int at_eof,
            ct_result_t *r);
void ct_result_free(ct_result_t *r);
/* "N frame(s), ENAME "reason" at byte B". */
void ct_outcome(char *b, size_t n, const ct_result_t *r);
/* Reports, and returns 0, unless got is what want (from `ref`) is. */
int ct_expect_same(const ct_result_t *want, const ct_result_t *got,
                   const char *ref);
/* Read sizes for a large input. */
uint64_t ct_chunk(size_t len);

/* ---- frames.c ---- */

/* Frames and their encoded stream. */
typedef struct {
  size_t n, cap;
  uint8_t **frame;
  size_t *len;
  size_t *wire_end; /* offset in the stream where frame i ends */
  weft__buf_t wire;
} ct_frames_t;

/* What ct_probe() found. */
extern size_t ct_max_len;    /* the largest frame the encoder takes */
extern size_t ct_max_wire;   /* its wire size */
extern int ct_unbounded;     /* the encoder took CT_CAP bytes */
extern uint8_t ct_fill_byte; /* a byte the encoder takes frames of */

/* The encoder into out; rolled back on failure, as weft_conn_send() is. */
int ct_encode(const void *frame, size_t len, weft__buf_t *out);
/* Finds the largest frame the encoder takes, and some lengths it takes. */
int ct_probe(void);
/* Appends one frame the encoder takes, of about want bytes. */
void ct_frames_add(ct_frames_t *fs, uint64_t *seed, size_t want);
void ct_frames_free(ct_frames_t *fs);
/* A length for a random frame: mostly up to small, sometimes up to 4k. */
size_t ct_pick_len(uint64_t *seed, size_t small);
/* Reports, and returns 0, unless r holds exactly fs's frames. */
int ct_expect_frames(const ct_frames_t *fs, const ct_result_t *r);

/* ---- checks.c ---- */

void ct_check_round_trip(uint64_t seed);
void ct_check_splits(uint64_t seed);
void ct_check_truncation(uint64_t seed);
void ct_check_max(uint64_t seed);
void ct_check_limit(uint64_t seed);
void ct_check_garbage(uint64_t seed);

/* ---- main.c ---- */

/* An instance of the plugin with the command line's options, plus or
 * instead of extra=value; errors printed when loud.  0 or WEFT_E*. */
int ct_create(const char *extra, const char *value, int loud, void **state);

#endif /* WEFT_TOOLS_CT_H */
