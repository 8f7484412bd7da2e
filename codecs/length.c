/*
 * The `length` codec: each frame carries an unsigned length field, as
 * Netty's LengthFieldBasedFrameDecoder and LengthFieldPrepender frame them.
 *
 *   [ length_offset bytes ][ length field ][ rest of the frame ........ ]
 *   |<------------ header ------------->|
 *
 * Options (defaults give a 4-byte big-endian payload length, then the
 * payload):
 *   length_offset           int, default 0: bytes before the length field;
 *   length_size             int, 1, 2, 3, 4 or 8 (default 4): field width;
 *   byte_order              "big" (default) or "little";
 *   length_adjustment       int, default 0: added to the field's value;
 *   length_includes_header  bool, default false: the value counts the
 *                           header (length_offset + length_size) too;
 *   strip                   int, default the header size: bytes dropped
 *                           from the frame's start before it is delivered;
 *   max_frame               size, default 8M: the largest whole frame,
 *                           header included, after adjustment;
 *   on_overflow             "close" (default) or "discard" (skip exactly
 *                           that frame, keep the connection).
 *
 * The whole frame is value + adjustment bytes, plus the header unless
 * length_includes_header.  Every bad value -- over max_frame, or smaller
 * than the header or than strip once adjusted -- is found from the header
 * alone, by comparing the raw value with bounds computed once in create(),
 * so no arithmetic is ever done on a value before it is known to be sane.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

/* Payloads this large are appended apart from their header, so that the
 * engine may send them without a copy; smaller ones are cheaper copied. */
#define LENGTH_APART 512

typedef struct {
  size_t offset;            /* length_offset */
  unsigned size;            /* length_size */
  int little;               /* byte order */
  size_t hend;              /* header end: offset + size */
  size_t strip;             /* bytes dropped before delivery */
  size_t max_frame;         /* whole frame, header included */
  int64_t k;                /* whole frame = value + k */
  uint64_t vmin;            /* smallest field value giving a frame */
  uint64_t vmax;            /* largest (max_frame, or what the field holds) */
  const char *short_reason; /* why a value below vmin is refused */
  int discard;              /* on_overflow = "discard" */
  size_t enc_min, enc_max;  /* frame lengths encode() takes: vmin..vmax */
  unsigned kind;            /* size * 2 + little: picks the field's form */
  int plain;                /* header = the field alone, stripped */
} length_state_t;

/* Per connection, only with on_overflow = "discard". */
typedef struct {
  uint64_t skip; /* bytes of a discarded frame still to drop */
} length_conn_t;

/* The largest value a field of `size` bytes holds. */
static uint64_t length_field_max(unsigned size) {
  return size == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * size)) - 1;
}

/* Writes a byte diagram of the frame layout to the log, at debug level. */
static void length_log_layout(const length_state_t *s) {
  char cells[3][32], top[160], mid[160], pos[160];
  size_t bounds[4], n = 0, i, w, at;
  int lens[3];

  if (weft_log_get_level() > WEFT_LOG_DEBUG)
    return;
  if (s->offset > 0) {
    snprintf(cells[n], sizeof(cells[n]), " %zu B ", s->offset);
    bounds[n++] = 0;
  }
  snprintf(cells[n], sizeof(cells[n]), " length: %u B %s ", s->size,
           s->little ? "LE" : "BE");
  bounds[n++] = s->offset;
  snprintf(cells[n], sizeof(cells[n]), " rest of the frame ");
  bounds[n++] = s->hend;

  /* Three rows: borders, cells, and each cell's start offset. */
  top[0] = mid[0] = pos[0] = '\0';
  for (i = 0, at = 0; i < n; i++) {
    lens[i] = (int)strlen(cells[i]);
    w = (size_t)lens[i];
    snprintf(top + at, sizeof(top) - at, "+%.*s", (int)w,
             "----------------------------------");
    snprintf(mid + at, sizeof(mid) - at, "|%s", cells[i]);
    snprintf(pos + at, sizeof(pos) - at, "%-*zu", (int)w + 1, bounds[i]);
    at += w + 1;
  }
  snprintf(top + at, sizeof(top) - at, "+");
  snprintf(mid + at, sizeof(mid) - at, "|");
  for (at = strlen(pos); at > 0 && pos[at - 1] == ' ';)
    pos[--at] = '\0';
  weft_log(WEFT_LOG_DEBUG, "codec \"length\" frame layout:");
  weft_log(WEFT_LOG_DEBUG, "  %s", top);
  weft_log(WEFT_LOG_DEBUG, "  %s", mid);
  weft_log(WEFT_LOG_DEBUG, "  %s", top);
  weft_log(WEFT_LOG_DEBUG, "  %s", pos);
  weft_log(WEFT_LOG_DEBUG,
           "  whole frame = length %s %lld bytes, %zu to %zu; length field "
           "values %llu to %llu; bytes %zu to the end are delivered",
           s->k < 0 ? "-" : "+", (long long)(s->k < 0 ? -s->k : s->k),
           (size_t)((int64_t)s->vmin + s->k), s->max_frame,
           (unsigned long long)s->vmin, (unsigned long long)s->vmax, s->strip);
}

/*
 * Computes the bounds on the field's value and refuses a configuration
 * under which no frame, or no value, could ever be valid.
 */
static int length_bounds(weft_opts_t *opts, length_state_t *s, int64_t adj,
                         int includes) {
  uint64_t fmax = length_field_max(s->size);
  int64_t lo, hi, floor;

  if (s->max_frame < s->hend)
    return weft_opt_error(opts, "max_frame",
                          "%zu is smaller than the header (length_offset + "
                          "length_size = %zu bytes)",
                          s->max_frame, s->hend);
  if (s->strip > s->max_frame)
    return weft_opt_error(opts, "strip",
                          "%zu is more than max_frame (%zu): no frame could "
                          "be delivered",
                          s->strip, s->max_frame);

  /* Every quantity here is below 2^31 in magnitude: no overflow. */
  s->k = (includes ? 0 : (int64_t)s->hend) + adj;
  floor = (int64_t)(s->strip > s->hend ? s->strip : s->hend);
  s->short_reason =
      s->strip > s->hend
          ? "declared length, after length_adjustment, is less than strip"
          : "declared length, after length_adjustment, is less than the "
            "header";
  lo = floor - s->k;
  if (lo < 0)
    lo = 0;
  hi = (int64_t)s->max_frame - s->k;
  if ((uint64_t)lo > fmax)
    return weft_opt_error(opts, "length_adjustment",
                          "%lld needs a length field value of at least "
                          "%lld, more than %u bytes hold",
                          (long long)adj, (long long)lo, s->size);
  if (hi < lo)
    return weft_opt_error(opts, "length_adjustment",
                          "with %lld%s no length field value gives a frame "
                          "of %lld to %zu (max_frame) bytes",
                          (long long)adj,
                          includes ? " and length_includes_header" : "",
                          (long long)floor, s->max_frame);
  s->vmin = (uint64_t)lo;
  s->vmax = (uint64_t)hi < fmax ? (uint64_t)hi : fmax;
  /* A frame of len bytes goes out as strip + len, whose field value is
   * strip + len - k: in vmin..vmax exactly for these lengths (both at
   * least 0, as vmin + k >= strip, and at most max_frame - strip). */
  s->enc_min = (size_t)((int64_t)s->vmin + s->k) - s->strip;
  s->enc_max = (size_t)((int64_t)s->vmax + s->k) - s->strip;
  return 0;
}

/* Indexes are the values of the state's flags. */
static const char *const length_order_names[] = {"big", "little", NULL};
static const char *const length_overflow_names[] = {"close", "discard", NULL};

static int length_create(weft_opts_t *opts, void **state) {
  length_state_t *s;
  int64_t offset, size, adj, strip;
  uint64_t max_frame;
  int includes, rc = 0, r;

  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return WEFT_ENOMEM;

  /* Read every option before failing, so each one is marked as known and
   * the operator sees all the bad values at once. */
  r = weft_opt_int(opts, "length_offset", 0, 0, 65535, &offset);
  rc = rc ? rc : r;
  r = weft_opt_int(opts, "length_size", 4, 1, 8, &size);
  if (r == 0 && size != 1 && size != 2 && size != 3 && size != 4 && size != 8)
    r = weft_opt_error(opts, "length_size", "must be 1, 2, 3, 4 or 8, not %d",
                       (int)size);
  rc = rc ? rc : r;
  r = weft_opt_choice(opts, "byte_order", length_order_names, 0, &s->little);
  rc = rc ? rc : r;
  r = weft_opt_int(opts, "length_adjustment", 0, -(1 << 30), 1 << 30, &adj);
  rc = rc ? rc : r;
  r = weft_opt_bool(opts, "length_includes_header", 0, &includes);
  rc = rc ? rc : r;
  /* -1: not given, strip the header. */
  r = weft_opt_int(opts, "strip", -1, 0, 1 << 30, &strip);
  rc = rc ? rc : r;
  /* 1G, as for line's max_length: the engine buffers a whole frame. */
  r = weft_opt_size(opts, "max_frame", 8 * 1024 * 1024, 1, (uint64_t)1 << 30,
                    &max_frame);
  rc = rc ? rc : r;
  r = weft_opt_choice(opts, "on_overflow", length_overflow_names, 0,
                      &s->discard);
  rc = rc ? rc : r;

  if (rc == 0) {
    s->offset = (size_t)offset;
    s->size = (unsigned)size;
    s->hend = s->offset + s->size;
    s->strip = strip < 0 ? s->hend : (size_t)strip;
    s->max_frame = (size_t)max_frame;
    s->kind = s->size * 2 + (unsigned)s->little;
    s->plain = s->offset == 0 && s->strip == s->hend;
    rc = length_bounds(opts, s, adj, includes);
  }
  if (rc != 0) {
    free(s);
    return rc;
  }
  length_log_layout(s);
  *state = s;
  return 0;
}

static void length_destroy(void *state) {
  free(state);
}

static int length_conn_init(void *state, void **conn_state) {
  const length_state_t *s = state;

  /* Closing on overflow needs no memory per connection. */
  if (!s->discard)
    return 0;
  *conn_state = calloc(1, sizeof(length_conn_t));
  return *conn_state != NULL ? 0 : WEFT_ENOMEM;
}

static void length_conn_free(void *state, void *conn_state) {
  (void)state;
  free(conn_state);
}

/* The field's value.  The common widths are spelled out, so that the
 * compiler turns each into one load and, if needed, a byte swap; inlined
 * with a constant kind, the switch goes away. */
static inline uint64_t length_get(unsigned kind, unsigned size,
                                  const uint8_t *p) {
  uint64_t v = 0;
  unsigned i;

  switch (kind) {
  case 2: /* 1 byte */
  case 3:
    return p[0];
  case 4: /* 2 bytes, big-endian */
    return (uint64_t)p[0] << 8 | p[1];
  case 5:
    return (uint64_t)p[1] << 8 | p[0];
  case 8: /* 4 bytes */
    return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 |
           p[3];
  case 9:
    return (uint64_t)p[3] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[1] << 8 |
           p[0];
  default: /* 3 and 8 bytes */
    if (kind & 1)
      for (i = size; i-- > 0;)
        v = v << 8 | p[i];
    else
      for (i = 0; i < size; i++)
        v = v << 8 | p[i];
    return v;
  }
}

/* Writes the field; the common widths as one store each. */
static inline void length_put(unsigned kind, unsigned size, uint8_t *p,
                              uint64_t v) {
  unsigned i;

  switch (kind) {
  case 8:
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return;
  case 9:
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return;
  default:
    for (i = 0; i < size; i++, v >>= 8)
      p[(kind & 1) ? i : size - 1 - i] = (uint8_t)(v & 0xff);
  }
}

/* Drops up to `left` bytes of a discarded frame; *left is what remains. */
static weft_decode_status_t length_skip(uint64_t *left, size_t len,
                                        weft_decode_t *d) {
  size_t n = *left < len ? (size_t)*left : len;

  *left -= n;
  d->consumed = n;
  return WEFT_DECODE_SKIP;
}

/*
 * A frame over max_frame.  "close": an error.  "discard": reported once,
 * then exactly that frame (value + k bytes, which may be more than 2^64:
 * then the rest of the stream) is skipped as it arrives.
 */
static weft_decode_status_t length_overflow(weft_codec_ctx_t *ctx,
                                            const length_state_t *s, uint64_t v,
                                            size_t len, weft_decode_t *d) {
  d->error = WEFT_EMSGSIZE;
  if (s->discard) {
    length_conn_t *cs = weft_codec_conn_state(ctx);
    if (cs != NULL) {
      /* v > vmax >= vmin >= hend - k, so v + k > 0; saturate at 2^64-1. */
      if (s->k >= 0)
        cs->skip =
            v > UINT64_MAX - (uint64_t)s->k ? UINT64_MAX : v + (uint64_t)s->k;
      else
        cs->skip = v - (uint64_t)(-s->k);
      d->reason = "frame longer than max_frame, discarded";
      length_skip(&cs->skip, len, d);
      return WEFT_DECODE_SKIP;
    }
  }
  d->reason = "declared length exceeds max_frame";
  d->consumed = s->offset; /* where the length field starts */
  return WEFT_DECODE_ERROR;
}

static weft_decode_status_t length_decode(weft_codec_ctx_t *ctx,
                                          const uint8_t *in, size_t len,
                                          weft_decode_t *d) {
  const length_state_t *s = weft_codec_state(ctx);
  uint64_t v;
  size_t total;

  if (s->discard) {
    length_conn_t *cs = weft_codec_conn_state(ctx);
    if (cs != NULL && cs->skip > 0)
      return length_skip(&cs->skip, len, d);
  }

  d->scanned = 0;
  if (len < s->hend) {
    d->need = 0;
    return WEFT_DECODE_MORE;
  }

  /* Compared before anything is added to it: no field value, up to
   * 2^64-1, can wrap a size.  The default field is read with one load. */
  v = s->kind == 8 ? length_get(8, 4, in + s->offset)
                   : length_get(s->kind, s->size, in + s->offset);
  if (v > s->vmax)
    return length_overflow(ctx, s, v, len, d);
  if (v < s->vmin) {
    d->error = WEFT_EPROTO;
    d->reason = s->short_reason;
    d->consumed = s->offset;
    return WEFT_DECODE_ERROR;
  }

  /* vmin <= v <= vmax: hend, strip <= total <= max_frame. */
  total = (size_t)((int64_t)v + s->k);
  if (len < total) {
    d->need = total;
    return WEFT_DECODE_MORE;
  }

  d->frame = in + s->strip;
  d->frame_len = total - s->strip;
  d->consumed = total;
  return WEFT_DECODE_FRAME;
}

/*
 * Whole frames one after another, as decode() finds them, for as long as
 * each header is in and sane and its frame complete: anything else (an
 * unfinished frame, a bad header, a frame to discard) is left to decode().
 * The usual header, 4 bytes big-endian, has a loop of its own that reads
 * it with one load; the bounds are copied to locals, which stores to
 * frames[] cannot alias.
 */
static size_t length_decode_many(weft_codec_ctx_t *ctx, const uint8_t *in,
                                 size_t len, weft_frame_t *frames, size_t max,
                                 size_t *used) {
  const length_state_t *s = weft_codec_state(ctx);
  const uint64_t vmin = s->vmin, span = s->vmax - s->vmin;
  const size_t hend = s->hend, strip = s->strip, offset = s->offset;
  const uint64_t k = (uint64_t)s->k; /* v + k wraps to the right size */
  const uint8_t *p = in, *end = in + len;
  weft_frame_t *f = frames, *fend = frames + max;
  size_t total;
  uint64_t v;

  if (s->discard) {
    length_conn_t *cs = weft_codec_conn_state(ctx);
    if (cs != NULL && cs->skip > 0) {
      *used = 0;
      return 0;
    }
  }
  if (s->kind == 8 && offset == 0 && strip == 4 && k == 4) {
    /* The default: a 4-byte big-endian payload length, stripped. */
    while (f < fend && end - p >= 4) {
      v = length_get(8, 4, p);
      if (v - vmin > span || (size_t)(end - p) - 4 < v)
        break;
      f->data = p + 4;
      f->len = (size_t)v;
      f++;
      p += 4 + (size_t)v;
    }
  } else if (s->kind == 8) {
    while (f < fend && (size_t)(end - p) >= hend) {
      v = length_get(8, 4, p + offset);
      /* vmin <= v <= vmax, as one comparison */
      if (v - vmin > span || (size_t)(end - p) < (total = (size_t)(v + k)))
        break;
      f->data = p + strip;
      f->len = total - strip;
      f++;
      p += total;
    }
  } else {
    while (f < fend && (size_t)(end - p) >= hend) {
      v = length_get(s->kind, s->size, p + offset);
      if (v - vmin > span || (size_t)(end - p) < (total = (size_t)(v + k)))
        break;
      f->data = p + strip;
      f->len = total - strip;
      f++;
      p += total;
    }
  }
  *used = (size_t)(p - in);
  return (size_t)(f - frames);
}

static weft_decode_status_t length_decode_eof(weft_codec_ctx_t *ctx,
                                              const uint8_t *in, size_t len,
                                              weft_decode_t *d) {
  const length_state_t *s = weft_codec_state(ctx);
  length_conn_t *cs = s->discard ? weft_codec_conn_state(ctx) : NULL;

  (void)in;
  /* The stream ended inside a frame already reported and discarded. */
  if (cs != NULL && cs->skip > 0) {
    cs->skip = 0;
    d->consumed = len;
    return WEFT_DECODE_SKIP;
  }
  /* decode() already took every complete frame: what is left is short. */
  d->error = WEFT_ETRUNC;
  d->reason = "truncated frame at end of stream";
  d->consumed = 0; /* where the unfinished frame starts */
  return WEFT_DECODE_ERROR;
}

/*
 * The wire form is `strip` zero bytes, then the frame, with the length
 * field written at its place: decoding it gives the frame back.  Where the
 * frame itself carries (part of) the field, because strip is less than the
 * header, those bytes must already hold the right value.
 */
static int length_check(const length_state_t *s, const uint8_t *frame,
                        size_t len) {
  uint8_t field[8];
  size_t i;

  if (len > s->enc_max)
    return WEFT_EMSGSIZE; /* over max_frame, or more than the field holds */
  if (len < s->enc_min)
    return WEFT_EINVAL; /* too short for the header or length_adjustment */
  if (s->strip < s->hend) {
    length_put(s->kind, s->size, field,
               (uint64_t)((int64_t)(s->strip + len) - s->k));
    for (i = s->offset; i < s->hend; i++)
      if (i >= s->strip && frame[i - s->strip] != field[i - s->offset])
        return WEFT_EINVAL;
  }
  return 0;
}

/* Writes the header of a checked frame of len bytes at p: zeroes but for
 * the field.  Where strip < hend the field runs into the frame's place; the
 * frame's own bytes there are the same. */
static inline void length_header(const length_state_t *s, unsigned kind,
                                 uint8_t *p, size_t len) {
  /* In the usual layout there are no zeroes. */
  if (s->offset > 0)
    memset(p, 0, s->offset);
  if (s->strip > s->hend)
    memset(p + s->hend, 0, s->strip - s->hend);
  length_put(kind, s->size, p + s->offset,
             (uint64_t)((int64_t)(s->strip + len) - s->k));
}

static int length_encode(weft_codec_ctx_t *ctx, const uint8_t *frame,
                         size_t len, weft_out_t *out) {
  const length_state_t *s = weft_codec_state(ctx);
  uint8_t *p;
  int r;

  if (s->plain && s->kind == 8 && len < LENGTH_APART &&
      len - s->enc_min <= s->enc_max - s->enc_min) {
    /* The default: 4 bytes big-endian, then the frame. */
    p = weft_out_reserve(out, 4 + len);
    if (p == NULL)
      return WEFT_ENOMEM;
    length_put(8, 4, p, (uint64_t)((int64_t)(4 + len) - s->k));
    if (len > 0)
      memcpy(p + 4, frame, len);
    return 0;
  }
  if ((r = length_check(s, frame, len)) != 0)
    return r;
  if (s->hend <= s->strip && len >= LENGTH_APART) {
    /* The usual layout: a header of its own, then the payload, appended
     * apart so the engine can send the payload without copying it. */
    p = weft_out_reserve(out, s->strip);
    if (p == NULL)
      return WEFT_ENOMEM;
    length_header(s, s->kind, p, len);
    return weft_out_append(out, frame, len);
  }
  p = weft_out_reserve(out, s->strip + len);
  if (p == NULL)
    return WEFT_ENOMEM;
  length_header(s, s->kind, p, len);
  if (len > 0)
    memcpy(p + s->strip, frame, len);
  return 0;
}

/*
 * Frames length_decode_many() returned (weft_out_decoded), in the plain
 * layout (the field alone, stripped).  One call returns frames one after
 * another, each preceded in the input by its header, whose field holds the
 * value encode() would write (a field of fixed width has one form for each
 * value): their wire form is the input from the first header to the end
 * of the last frame, appended as it came, in one call (which the engine may
 * send by reference, without a copy).
 */
static int length_encode_decoded(const length_state_t *s,
                                 const weft_frame_t *frames, size_t n,
                                 weft_out_t *out) {
  const uint8_t *start = frames[0].data - s->hend;
  const uint8_t *end = frames[n - 1].data + frames[n - 1].len;

  return weft_out_append(out, start, (size_t)(end - start));
}

/*
 * A batch.  Small frames go in one reservation, large ones apart as
 * encode() sends them.  In the usual layout (a header that is the field
 * alone, stripped on decode) each frame is its field then its bytes, and a
 * length is valid when it is in enc_min..enc_max: one comparison.
 */
static int length_encode_many(weft_codec_ctx_t *ctx, const weft_frame_t *frames,
                              size_t n, weft_out_t *out) {
  const length_state_t *s = weft_codec_state(ctx);
  const size_t lo = s->enc_min, span = s->enc_max - s->enc_min;
  const size_t strip = s->strip;
  const uint64_t add = (uint64_t)((int64_t)strip - s->k);
  size_t i = 0, j, total, len;
  uint8_t *p;
  int r;

  if (strip < s->hend) {
    /* Frames that carry part of the header: each checked by encode(). */
    for (; i < n; i++)
      if ((r = length_encode(ctx, frames[i].data, frames[i].len, out)) != 0)
        return r;
    return 0;
  }
  if (s->plain && weft_out_decoded(out))
    return length_encode_decoded(s, frames, n, out);
  while (i < n) {
    total = 0;
    for (j = i; j < n && (len = frames[j].len) < LENGTH_APART; j++) {
      if (len - lo > span) /* out of enc_min..enc_max: say which way */
        return length_check(s, frames[j].data, len);
      total += len;
    }
    if (j > i) {
      p = weft_out_reserve(out, total + (j - i) * strip);
      if (p == NULL)
        return WEFT_ENOMEM;
      if (s->plain && s->kind == 8) {
        for (; i < j; i++) {
          len = frames[i].len;
          length_put(8, 4, p, len + add);
          if (len > 0)
            memcpy(p + 4, frames[i].data, len);
          p += 4 + len;
        }
      } else {
        for (; i < j; i++) {
          len = frames[i].len;
          length_header(s, s->kind, p, len);
          if (len > 0)
            memcpy(p + strip, frames[i].data, len);
          p += strip + len;
        }
      }
    }
    if (i < n) {
      if ((r = length_encode(ctx, frames[i].data, frames[i].len, out)) != 0)
        return r;
      i++;
    }
  }
  return 0;
}

static const weft_codec_vtable_t length_vtable = {
    sizeof(weft_codec_vtable_t),
    length_create,
    length_destroy,
    length_conn_init, /* state only with on_overflow = "discard" */
    length_conn_free,
    length_decode,
    length_decode_eof,
    length_encode,
    length_decode_many,
    length_encode_many,
};

WEFT_CODEC_PLUGIN("length", "1.1", &length_vtable);
