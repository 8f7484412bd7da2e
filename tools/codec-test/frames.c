/* weft-codec-test: frames from the plugin's own encoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

size_t ct_max_len;             /* the largest frame the encoder takes */
size_t ct_max_wire;            /* its wire size */
int ct_unbounded;              /* the encoder took CT_CAP bytes */
static size_t ct_accepted[32]; /* lengths the encoder took, for generators */
static size_t ct_naccepted;
uint8_t ct_fill_byte = 'x'; /* a byte the encoder takes frames of */

int ct_encode(const void *frame, size_t len, weft__buf_t *out) {
  weft_codec_ctx_t ctx;
  weft_out_t o;
  size_t before = out->len;
  int r;

  memset(&ctx, 0, sizeof(ctx));
  ctx.vt = &ct_shim;
  ctx.state = ct_codec.state;
  o.buf = out;
  o.zc = NULL; /* no zero-copy outside a connection */
  r = ct_codec.vt->encode(&ctx, frame, len, &o);
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

  memset(p, ct_fill_byte, len);
  memset(&b, 0, sizeof(b));
  r = ct_encode(p, len, &b);
  if (wire != NULL)
    *wire = b.len;
  weft__buf_free(&b);
  free(p);
  return r;
}

/* Finds the largest frame the encoder takes, and some lengths it takes. */
int ct_probe(void) {
  static const uint8_t fills[] = {'x', 'a', '0', 0x00, 0xff, 0x55};
  size_t lo, hi, mid, i, w;

  ct_now.check = "probe";
  {
    /* An empty frame may come as NULL. */
    weft__buf_t b;
    memset(&b, 0, sizeof(b));
    ct_encode(NULL, 0, &b);
    weft__buf_free(&b);
  }
  /* A byte value the encoder is happy with (a delimiter byte is not). */
  for (i = 0; i < sizeof(fills); i++) {
    ct_fill_byte = fills[i];
    if (ct_takes(1, NULL) != WEFT_EINVAL && ct_takes(2, NULL) != WEFT_EINVAL)
      break;
  }
  /* The largest length not refused as too big; the encoder may still
   * refuse lengths below it for other reasons (fixed sizes). */
  if (ct_takes(CT_CAP, NULL) != WEFT_EMSGSIZE) {
    ct_unbounded = 1;
    ct_max_len = 65536;
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
    ct_max_len = ct_takes(0, NULL) == WEFT_EMSGSIZE ? 0 : lo;
  }
  for (i = 0; i <= 64 && ct_naccepted < 16; i++)
    if (i <= ct_max_len && ct_takes(i, NULL) == 0)
      ct_accepted[ct_naccepted++] = i;
  for (i = 0; i < 8 && ct_naccepted < 32; i++) {
    size_t len = i < 4 ? ct_max_len - i : ct_max_len / (i - 2);
    if (len > 64 && len <= ct_max_len && ct_takes(len, NULL) == 0)
      ct_accepted[ct_naccepted++] = len;
  }
  if (ct_naccepted == 0) {
    ct_fail("the encoder takes no frame of 0 to 64 bytes, nor of %zu",
            ct_max_len);
    return -1;
  }
  if (ct_takes(ct_max_len, &w) == 0) {
    ct_max_wire = w;
  } else {
    /* The largest taken length is then the largest in accepted[]. */
    for (i = 0; i < ct_naccepted; i++)
      if (ct_takes(ct_accepted[i], &w) == 0 && w > ct_max_wire)
        ct_max_wire = w;
  }
  return 0;
}

void ct_frames_free(ct_frames_t *fs) {
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
void ct_frames_add(ct_frames_t *fs, uint64_t *seed, size_t want) {
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
  len = want <= ct_max_len ? want : ct_max_len;
  /* Random bytes; if the encoder refuses those (a delimiter inside),
   * random letters, then one byte repeated; if it refuses the length
   * itself, a length it took before. */
  for (t = 0; t < 12; t++) {
    if (t == 6)
      len = ct_accepted[ct_rand(seed) % ct_naccepted];
    p = ct_alloc(len);
    if (t % 3 == 0)
      ct_rand_bytes(seed, p, len);
    else if (t % 3 == 1)
      for (i = 0; i < len; i++)
        p[i] = (uint8_t)('a' + ct_rand(seed) % 26);
    else
      memset(p, ct_fill_byte, len);
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
size_t ct_pick_len(uint64_t *seed, size_t small) {
  uint64_t k = ct_rand(seed) % 16;

  if (k == 0)
    return ct_accepted[ct_rand(seed) % ct_naccepted];
  if (k < 12)
    return ct_rand(seed) % (small + 1);
  return ct_rand(seed) % 4097;
}

/* Checks a run of fs's stream gave exactly fs's frames, no error. */
int ct_expect_frames(const ct_frames_t *fs, const ct_result_t *r) {
  char got[256];
  size_t i, at = 0;

  if (r->error != 0) {
    ct_outcome(got, sizeof(got), r);
    ct_fail("a stream of %zu encoded frames gave %s", fs->n, got);
    return 0;
  }
  if (ct_cfg.stream) {
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
