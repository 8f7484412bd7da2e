/* weft-codec-test: the checks.  See weft-codec-test(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

/* Option names tried, in order, when looking for a frame-size limit. */
static const char *const ct_limit_names[] = {"max_length", "max_frame",
                                             "max_size", NULL};

/* Byte by byte is in the splits check, on a smaller stream: each decode
 * call costs two mprotect() calls. */
void ct_check_round_trip(uint64_t seed) {
  static const ct_split_t splits[] = {{CT_WHOLE, 0, 0},  {CT_WHOLE, 0, 1},
                                      {CT_RANDOM, 1, 0}, {CT_RANDOM, 2, 1},
                                      {CT_RANDOM, 3, 0}, {CT_CHUNKS, 4096, 0}};
  ct_frames_t fs;
  ct_result_t r;
  size_t i;
  unsigned before = ct_failures;

  ct_now.check = "round trip";
  memset(&fs, 0, sizeof(fs));
  for (i = 0; i < ct_cfg.frames; i++)
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
  if (ct_failures == before)
    ct_ok("%zu frames, %zu bytes: the same frames back, read whole and in "
          "random pieces",
          fs.n, fs.wire.len);
  ct_frames_free(&fs);
  ct_done();
}

/* A stream of small frames, split at every point. */
static void ct_small_stream(ct_frames_t *fs, uint64_t *seed) {
  memset(fs, 0, sizeof(*fs));
  while (fs->n < 24 && fs->wire.len < CT_SMALL / 2)
    ct_frames_add(fs, seed, ct_rand(seed) % 24);
}

void ct_check_splits(uint64_t seed) {
  ct_frames_t fs;
  ct_result_t whole, r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  size_t i;
  unsigned before = ct_failures;

  ct_now.check = "splits";
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
  if (ct_failures == before)
    ct_ok("%zu frames, %zu bytes: alike byte by byte and split at each of "
          "its %zu points",
          fs.n, fs.wire.len, fs.wire.len - 1);
  ct_frames_free(&fs);
  ct_done();
}

/* Every cut of a stream gives the frames wholly before it and, unless
 * the cut falls between frames, an error at EOF. */
void ct_check_truncation(uint64_t seed) {
  ct_frames_t fs;
  ct_result_t r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  size_t cut, whole_frames, i;
  int boundary;
  unsigned before = ct_failures;
  char got[256];

  ct_now.check = "truncation";
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
  if (ct_failures == before)
    ct_ok("each of %zu cuts of a %zu-frame stream: the frames before it, "
          "then an error at EOF",
          fs.wire.len - 1, fs.n);
  ct_frames_free(&fs);
  ct_done();
}

void ct_check_max(uint64_t seed) {
  ct_frames_t fs;
  ct_result_t r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  unsigned before = ct_failures;

  ct_now.check = "max frame";
  memset(&fs, 0, sizeof(fs));
  ct_frames_add(&fs, &seed, ct_max_len);
  ct_frames_add(&fs, &seed, 0);
  ct_run(fs.wire.base, fs.wire.len, s, 1, &r);
  ct_expect_frames(&fs, &r);
  ct_result_free(&r);
  s.kind = fs.wire.len <= 65536 ? CT_BYTES : CT_CHUNKS;
  s.arg = ct_chunk(fs.wire.len);
  ct_run(fs.wire.base, fs.wire.len, s, 1, &r);
  ct_expect_frames(&fs, &r);
  ct_result_free(&r);
  if (ct_failures == before)
    ct_ok("a frame of %zu bytes (the largest the encoder takes), %zu on the "
          "wire",
          fs.len[0], fs.wire_end[0]);
  ct_frames_free(&fs);
  ct_done();
}

/* Creates an instance of the plugin with the command line's options, plus
 * or instead of `extra`=`value`; errors are printed when `loud`. */
/*
 * One byte over the limit: a second instance with a larger limit option
 * encodes a frame one byte longer than this one takes; this one must fail
 * on it, deliver no frame, and hold no more than its largest frame.
 */
void ct_check_limit(uint64_t seed) {
  char value[32];
  const char *name = NULL;
  void *big = NULL;
  weft__buf_t wire;
  weft_codec_ctx_t ctx;
  weft_out_t o;
  ct_result_t r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  uint8_t *p;
  size_t i, len = ct_max_len + 1;
  unsigned before = ct_failures;
  char got[256];

  ct_now.check = "over limit";
  if (ct_unbounded) {
    ct_ok("skipped: the encoder takes frames of %zu bytes and more", CT_CAP);
    return;
  }
  snprintf(value, sizeof(value), "%zu", 2 * len + 4096);
  if (ct_cfg.limit != NULL) {
    name = ct_cfg.limit;
    if (ct_create(name, value, 1, &big) != 0)
      big = NULL;
  } else {
    /* The first of the usual names this codec takes. */
    for (i = 0; ct_limit_names[i] != NULL && big == NULL; i++) {
      name = ct_limit_names[i];
      if (ct_create(name, value, 0, &big) != 0)
        big = NULL;
    }
  }
  if (big == NULL) {
    ct_ok("skipped: no option of %s raises the limit (name it with "
          "--limit)",
          ct_cfg.limit ? ct_cfg.limit : "max_length, max_frame, max_size");
    return;
  }
  p = ct_alloc(len);
  memset(&wire, 0, sizeof(wire));
  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = &ct_shim;
  ctx.state = big;
  o.buf = &wire;
  o.zc = NULL;
  for (i = 0; i < 4; i++) {
    if (i < 2)
      ct_rand_bytes(&seed, p, len);
    else
      memset(p, i == 2 ? ct_fill_byte : 'a', len);
    if (ct_codec.vt->encode(&ctx, p, len, &o) == 0)
      break;
    wire.len = 0;
  }
  if (ct_codec.vt->destroy != NULL)
    ct_codec.vt->destroy(big);
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
      else if (r.max_pending > ct_max_wire + CT_SLACK)
        ct_fail("the decoder held %zu bytes of a frame over the limit, more "
                "than the largest frame (%zu bytes on the wire)",
                r.max_pending, ct_max_wire);
      ct_result_free(&r);
      if (ct_failures != before)
        break;
    }
    if (ct_failures == before)
      ct_ok("a frame of %zu bytes (%zu on the wire, by %s = %s): %s", len,
            wire.len, name, value, got);
  }
  free(p);
  weft__buf_free(&wire);
  ct_done();
}

/*
 * Hostile streams: whatever the bytes, the framer never holds more than
 * the largest frame, and reads split anyhow give the same result.
 */
void ct_check_garbage(uint64_t seed) {
  static const char *const kinds[] = {"random", "zeros", "0xff",
                                      "'a'",    "'9'",   "ascii digits"};
  ct_result_t whole, r;
  ct_split_t s = {CT_WHOLE, 0, 0};
  size_t len, k, i, held = 0;
  uint8_t *g;
  unsigned before = ct_failures;
  int bound = !ct_unbounded && ct_max_wire <= ((size_t)1 << 20);

  ct_now.check = "garbage";
  len = bound ? 2 * ct_max_wire + 4096 : 65536;
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
    if (!ct_cfg.stream)
      ct_expect_same(&whole, &r, "one read");
    if (bound && r.max_pending > ct_max_wire + CT_SLACK)
      ct_fail("%s bytes: the decoder held %zu bytes without a frame or an "
              "error, more than the largest frame the encoder writes (%zu "
              "bytes): a peer could grow this connection without bound",
              kinds[k], r.max_pending, ct_max_wire);
    if (r.max_pending > held)
      held = r.max_pending;
    ct_result_free(&whole);
    ct_result_free(&r);
    if (ct_failures != before)
      break;
  }
  free(g);
  if (ct_failures == before) {
    if (bound)
      ct_ok("6 streams of %zu bytes: never more than %zu bytes held (the "
            "largest frame is %zu)",
            len, held, ct_max_wire);
    else
      ct_ok("6 streams of %zu bytes decoded alike however split (frames of "
            "%zu bytes and more: no bound checked)",
            len, ct_max_wire);
  }
  ct_done();
}
