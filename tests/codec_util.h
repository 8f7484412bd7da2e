/*
 * Helpers for codec unit tests: build a codec instance from its descriptor
 * and options, run the real framer over a byte vector split in any way, and
 * check that every split gives the same frames and the same error at the
 * same stream offset.  Failures are reported with cmocka's assertions.
 */
#ifndef WEFT_TESTS_CODEC_UTIL_H
#define WEFT_TESTS_CODEC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <weft/weft.h>

#include "buf.h"
#include "framer.h"

/* Options, as a config would give them; a table ends with CU_END. */
typedef enum {
  CU_OPT_END = 0,
  CU_OPT_INT,
  CU_OPT_BOOL,
  CU_OPT_STR,
  CU_OPT_FLOAT
} cu_opt_type_t;

typedef struct {
  cu_opt_type_t type;
  const char *name;
  int64_t i;
  const char *s;
  double f;
} cu_opt_t;

#define CU_INT(n, v)                                                           \
  { CU_OPT_INT, (n), (v), NULL, 0.0 }
#define CU_BOOL(n, v)                                                          \
  { CU_OPT_BOOL, (n), (v), NULL, 0.0 }
#define CU_STR(n, v)                                                           \
  { CU_OPT_STR, (n), 0, (v), 0.0 }
#define CU_FLOAT(n, v)                                                         \
  { CU_OPT_FLOAT, (n), 0, NULL, (v) }
#define CU_END                                                                 \
  { CU_OPT_END, NULL, 0, NULL, 0.0 }

/* The option at index i of a table sits at line i + 1 of this file. */
#define CU_ORIGIN "test.conf"

typedef struct {
  const weft_plugin_t *plugin;
  /* Used by cu_run and cu_encode; a test may swap in a shim after open. */
  const weft_codec_vtable_t *vt;
  void *state;
  int rc;            /* what create() returned */
  size_t nerrors;    /* option errors recorded, unknown options included */
  char errors[4096]; /* every option error message, one per line */
} cu_codec_t;

/*
 * Creates an instance of p's codec with opts (NULL: none) the way the
 * engine does: create(), then the unknown-option check.  Returns 0 when the
 * instance is usable; otherwise c->rc, c->nerrors and c->errors say why and
 * nothing is left to free.
 */
int cu_codec_open(cu_codec_t *c, const weft_plugin_t *p, const cu_opt_t *opts);
void cu_codec_close(cu_codec_t *c);

/* True when some recorded option error contains every one of the strings
 * (NULL-terminated list). */
int cu_codec_error_has(const cu_codec_t *c, ...);

/* How the input is cut into reads. */
typedef enum {
  CU_WHOLE,  /* one read */
  CU_BYTES,  /* one byte per read */
  CU_AT,     /* two reads, split at byte arg */
  CU_RANDOM, /* random read sizes, seeded with arg */
} cu_split_kind_t;

/* How frames are taken from the framer. */
typedef enum {
  CU_ONE = 0,   /* decode() one frame at a time */
  CU_BATCH,     /* batches from decode_many (ABI 1.2), unbounded room */
  CU_BATCH_ROOM /* batches, with a small random room after each callback,
                   as a connection near its high watermark gives */
} cu_batch_t;

typedef struct {
  cu_split_kind_t kind;
  uint64_t arg;
  int stop_each; /* the frame callback stops after every frame (resume) */
  cu_batch_t batch;
} cu_split_t;

/* What a run produced. */
typedef struct {
  size_t nframes;
  size_t *frame_off; /* frame i is data[frame_off[i] .. + frame_len[i]) */
  size_t *frame_len;
  uint8_t *data;
  size_t data_len;
  size_t cap_frames;
  size_t cap_data;

  int error;             /* 0 or the framer's WEFT_E* */
  uint64_t error_offset; /* stream offset of the error */
  const char *reason;
  int error_at_eof; /* the error came from weft__framer_eof, not a read */

  size_t reads;       /* feed() calls */
  size_t max_pending; /* largest tail the framer held after a clean feed */
  uint64_t delivered; /* framer's own frame count */
  size_t tail_grows;  /* times the framer's tail buffer was reallocated */
  uint64_t discarded; /* frames the codec skipped with an error (SKIP) */
  size_t batches;     /* calls of the batch callback */
  size_t batched;     /* frames delivered through it */
} cu_result_t;

/*
 * Feeds in[0..len) through a fresh framer cut as split says, following the
 * engine's protocol (conn_init, read_buf, copy, feed, conn_free), then
 * signals EOF unless
 * at_eof is 0 or an error already stopped it.  Frames are copied into r.
 */
void cu_run(const cu_codec_t *c, const uint8_t *in, size_t len,
            cu_split_t split, int at_eof, cu_result_t *r);
void cu_result_free(cu_result_t *r);

/* Asserts two results hold the same frames and the same error at the same
 * offset (what names the second run in the failure message). */
void cu_assert_same(const cu_result_t *a, const cu_result_t *b,
                    const char *what);

/*
 * Runs in[0..len) whole, byte by byte, split at every point (when len is at
 * most split_max), in random chunks with several seeds, and with a callback
 * that stops after every frame, each one frame at a time and in batches
 * (when the codec has decode_many); asserts every run matches the whole
 * run one frame at a time, which is left in *whole for the caller's own
 * checks.  With decode_many, also runs cu_check_many on the input.
 */
void cu_check_splits(const cu_codec_t *c, const uint8_t *in, size_t len,
                     size_t split_max, int at_eof, cu_result_t *whole);

/*
 * Runs the hex vector in (see cu_hex) with cu_check_splits, with and
 * without EOF, and asserts the frames (hex, NULL-terminated list, at most
 * 16), the error, its stream offset and whether it came only at EOF.
 */
void cu_check_hex(const cu_codec_t *c, const char *in,
                  const char *const *frames, int error, uint64_t offset,
                  int at_eof);

/*
 * Encodes n random frames of min_len..max_len bytes (max_len and min_len
 * now and then), then decodes the stream whole, byte by byte and in random
 * chunks, asserting the same frames come back.  Returns the stream size.
 */
size_t cu_round_trip(const cu_codec_t *c, size_t n, size_t min_len,
                     size_t max_len, uint64_t seed);

/*
 * decode_many against decode(), directly: from every start in in[0..len)
 * to every end (when len is at most 200; else from a sample of starts),
 * with room for 1, 2, 3 and 64 frames, decode_many must return exactly the
 * slices a run of decode() calls returns, stop where decode() would not
 * return a frame (or with the array full), and report the bytes they
 * took.  Does nothing for a codec without decode_many.
 */
void cu_check_many(const cu_codec_t *c, const uint8_t *in, size_t len);

/*
 * encode_many against encode(): frames[0..n) encoded by one encode_many
 * call must give the bytes the n encode() calls give, and fail, with the
 * same error, exactly when one of them fails.  Returns that error (or 0).
 * Does nothing but the encode() calls for a codec without encode_many.
 */
int cu_check_encode_many(const cu_codec_t *c, const weft_frame_t *frames,
                         size_t n);

/*
 * The echo path (weft_out_decoded): the frames one decode_many call finds
 * in in[0..len) (copied to a buffer of exactly len bytes, so reading past
 * it is caught under ASan), each run of them encoded by encode_many told
 * they are decoded, must give the bytes and the error of encode() one frame
 * at a time.  Returns how many frames were found (0 for a codec without
 * both calls).
 */
size_t cu_check_decoded(const cu_codec_t *c, const uint8_t *in, size_t len);

/* Asserts frame i of r is exactly data[0..len). */
void cu_assert_frame(const cu_result_t *r, size_t i, const void *data,
                     size_t len);

/*
 * Parses "00 0a ff 'text'" into bytes: pairs of hex digits, with spaces
 * anywhere and quoted text taken literally.  Fails the test on bad input.
 * The result is malloc'd.
 */
uint8_t *cu_hex(const char *hex, size_t *len);

/* Runs the codec's encode() into out (appending).  Its return value; on
 * failure out is rolled back, as weft_conn_send() does. */
int cu_encode(const cu_codec_t *c, const void *frame, size_t len,
              weft__buf_t *out);

/* A small deterministic generator (splitmix64). */
uint64_t cu_rand(uint64_t *seed);
/* Fills p[0..len) with random bytes. */
void cu_rand_bytes(uint64_t *seed, uint8_t *p, size_t len);

#endif /* WEFT_TESTS_CODEC_UTIL_H */
