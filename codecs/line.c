/*
 * The `line` codec: frames are the bytes before each delimiter, "\n" unless
 * configured otherwise.
 *
 * Options:
 *   delimiter         string, default "\n": 1 to 32 bytes, with the escapes
 *                     \n \r \t \0 \\ and \xHH decoded here (see line_unescape);
 *   max_length        size, default 64k: the most bytes allowed before the
 *                     delimiter (a "\r" that strip_cr drops still counts);
 *   strip_cr          bool, default true with "\n" (and refused with any
 *                     other delimiter): drop one "\r" just before the "\n";
 *   append_delimiter  bool, default true: the encoder adds the delimiter;
 *                     false sends frames as given (the handler writes it);
 *   on_overflow       "close" (default) or "discard": what a line longer
 *                     than max_length does (see line_overflow).
 *
 * A line longer than max_length is found at its first byte past the limit
 * that cannot begin a delimiter, so a peer can never make us hold more than
 * max_length + (delimiter length - 1) bytes of one line.  Scanning resumes
 * where the last call stopped, so a line arriving a byte at a time costs
 * O(n) in total.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

/* Frames this large are appended apart from their delimiter, so that the
 * engine may send them without a copy; smaller ones are cheaper copied. */
#define LINE_APART 512

#define LINE_MAX_DELIM 32
#define LINE_NONE ((size_t)-1)

typedef struct {
  uint8_t delim[LINE_MAX_DELIM];
  size_t dlen;
  size_t max_length;
  int strip_cr;
  int append;
  int discard; /* on_overflow = "discard" */
} line_state_t;

/* Per connection, only with on_overflow = "discard". */
typedef struct {
  int discarding; /* inside a line already reported as too long */
} line_conn_t;

static int line_hex(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/*
 * Decodes the delimiter option.  libconfig turns "\n", "\r", "\t" and "\\"
 * into bytes itself but passes other escapes through with their backslash,
 * and cannot carry a NUL at all ("\x00" ends its string); so the codec also
 * decodes \0, \xHH, \n, \r, \t and \\ itself: `delimiter = "\0";` and
 * `delimiter = "\\r\\n";` both work.  Returns 0, or -1 with *what saying why.
 */
static int line_unescape(const char *s, line_state_t *st, const char **what) {
  size_t n = 0;
  int hi, lo;
  uint8_t c;

  while (*s != '\0') {
    if (*s != '\\') {
      c = (uint8_t)*s++;
    } else {
      s++;
      switch (*s) {
      case 'n':
        c = '\n';
        break;
      case 'r':
        c = '\r';
        break;
      case 't':
        c = '\t';
        break;
      case '0':
        c = 0;
        break;
      case '\\':
        c = '\\';
        break;
      case 'x':
        hi = line_hex(s[1]);
        lo = hi < 0 ? -1 : line_hex(s[2]);
        if (lo < 0) {
          *what = "\\x must be followed by two hex digits";
          return -1;
        }
        c = (uint8_t)(hi << 4 | lo);
        s += 2;
        break;
      default:
        *what = "unknown escape: use \\n \\r \\t \\0 \\\\ or \\xHH";
        return -1;
      }
      s++;
    }
    if (n == LINE_MAX_DELIM) {
      *what = "is longer than 32 bytes";
      return -1;
    }
    st->delim[n++] = c;
  }
  if (n == 0) {
    *what = "is empty (a NUL is written \"\\0\" or \"\\\\x00\": libconfig "
            "drops \"\\x00\" and everything after it)";
    return -1;
  }
  st->dlen = n;
  return 0;
}

/* The index is the value of the state's discard flag. */
static const char *const line_overflow_names[] = {"close", "discard", NULL};

static int line_create(weft_opts_t *opts, void **state) {
  line_state_t *s;
  const char *delim, *why;
  uint64_t max_length;
  int strip_cr, append, rc = 0, r;

  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return WEFT_ENOMEM;

  /* Read every option before failing, so each one is marked as known and
   * the operator sees all the bad values at once, not an "unknown" one. */
  r = weft_opt_str(opts, "delimiter", "\n", &delim);
  if (r == 0 && line_unescape(delim, s, &why) != 0)
    r = weft_opt_error(opts, "delimiter", "delimiter %s", why);
  rc = rc ? rc : r;

  r = weft_opt_size(opts, "max_length", 64 * 1024, 1, (uint64_t)1 << 30,
                    &max_length);
  rc = rc ? rc : r;

  /* -1: not given; the default depends on the delimiter. */
  r = weft_opt_bool(opts, "strip_cr", -1, &strip_cr);
  rc = rc ? rc : r;

  r = weft_opt_bool(opts, "append_delimiter", 1, &append);
  rc = rc ? rc : r;

  r = weft_opt_choice(opts, "on_overflow", line_overflow_names, 0,
                      &s->discard);
  rc = rc ? rc : r;

  if (rc == 0) {
    int newline = s->dlen == 1 && s->delim[0] == '\n';
    if (strip_cr == -1)
      strip_cr = newline;
    else if (strip_cr && !newline)
      rc = weft_opt_error(opts, "strip_cr",
                          "applies only with the delimiter \"\\n\": write "
                          "the \"\\r\" into the delimiter instead");
  }
  if (rc != 0) {
    free(s);
    return rc;
  }
  s->max_length = (size_t)max_length;
  s->strip_cr = strip_cr;
  s->append = append;
  *state = s;
  return 0;
}

static void line_destroy(void *state) {
  free(state);
}

static int line_conn_init(void *state, void **conn_state) {
  const line_state_t *s = state;

  /* Closing on overflow needs no memory per connection. */
  if (!s->discard)
    return 0;
  *conn_state = calloc(1, sizeof(line_conn_t));
  return *conn_state != NULL ? 0 : WEFT_ENOMEM;
}

static void line_conn_free(void *state, void *conn_state) {
  (void)state;
  free(conn_state);
}

/*
 * The first p in [from, last] where a whole delimiter starts inside
 * in[0..len), or LINE_NONE.  A multi-byte delimiter is found by its last
 * byte with memchr (for "\r\n", the rarer "\n"), then checked backwards.
 */
static size_t line_find(const line_state_t *s, const uint8_t *in, size_t len,
                        size_t from, size_t last) {
  const uint8_t *hit;
  size_t end, q;

  if (len < s->dlen || from > len - s->dlen)
    return LINE_NONE;
  if (last > len - s->dlen)
    last = len - s->dlen;
  if (from > last)
    return LINE_NONE;
  if (s->dlen == 1) {
    hit = memchr(in + from, s->delim[0], last + 1 - from);
    return hit != NULL ? (size_t)(hit - in) : LINE_NONE;
  }
  /* Positions of the delimiter's last byte: [from + dlen - 1, end). */
  end = last + s->dlen;
  for (q = from + s->dlen - 1; q < end; q++) {
    hit = memchr(in + q, s->delim[s->dlen - 1], end - q);
    if (hit == NULL)
      return LINE_NONE;
    q = (size_t)(hit - in);
    if (memcmp(in + q + 1 - s->dlen, s->delim, s->dlen - 1) == 0)
      return q + 1 - s->dlen;
  }
  return LINE_NONE;
}

/* Whether a delimiter may still start at some p in [from, last] whose
 * bytes run past the input: in[p..len) is a prefix of the delimiter. */
static int line_partial(const line_state_t *s, const uint8_t *in, size_t len,
                        size_t from, size_t last) {
  size_t p;

  if (len + 1 > s->dlen && from < len + 1 - s->dlen)
    from = len + 1 - s->dlen;
  for (p = from; p <= last && p < len; p++)
    if (memcmp(in + p, s->delim, len - p) == 0)
      return 1;
  return 0;
}

/* Discarding the rest of an over-long line: drop input up to and including
 * the next delimiter, keeping only bytes that may begin one. */
static weft_decode_status_t line_skip(const line_state_t *s, line_conn_t *cs,
                                      const uint8_t *in, size_t len,
                                      weft_decode_t *d) {
  size_t p = line_find(s, in, len, 0, len);

  if (p != LINE_NONE) {
    cs->discarding = 0;
    d->consumed = p + s->dlen;
    return WEFT_DECODE_SKIP;
  }
  if (len < s->dlen) {
    d->scanned = 0;
    return WEFT_DECODE_MORE;
  }
  d->consumed = len + 1 - s->dlen;
  return WEFT_DECODE_SKIP;
}

/*
 * What a line past max_length does.  "close": an error, found at the first
 * byte past the limit.  "discard": that line is reported once as an error
 * the connection survives, then skipped up to its delimiter, however long.
 */
static weft_decode_status_t
line_overflow(weft_codec_ctx_t *ctx, const line_state_t *s, weft_decode_t *d) {
  d->error = WEFT_EMSGSIZE;
  if (s->discard) {
    line_conn_t *cs = weft_codec_conn_state(ctx);
    if (cs != NULL) {
      cs->discarding = 1;
      d->reason = "line longer than max_length, discarded";
      d->consumed = s->max_length + 1;
      return WEFT_DECODE_SKIP;
    }
  }
  d->reason = "line longer than max_length";
  d->consumed = s->max_length;
  return WEFT_DECODE_ERROR;
}

static weft_decode_status_t line_decode(weft_codec_ctx_t *ctx,
                                        const uint8_t *in, size_t len,
                                        weft_decode_t *d) {
  const line_state_t *s = weft_codec_state(ctx);
  size_t start, p, n;

  if (s->discard) {
    line_conn_t *cs = weft_codec_conn_state(ctx);
    if (cs != NULL && cs->discarding)
      return line_skip(s, cs, in, len, d);
  }

  /* Resume where the last MORE stopped: no delimiter starts before it.  A
   * resume point past the input cannot come from a correct engine;
   * rescanning is the safe answer. */
  start = d->scanned;
  if (start > len)
    start = 0;

  /* A delimiter may start at index max_length at most: never look
   * further, so an over-long line is caught as soon as it is proven. */
  p = line_find(s, in, len, start, s->max_length);
  if (p == LINE_NONE) {
    if (len > s->max_length && !line_partial(s, in, len, start, s->max_length))
      return line_overflow(ctx, s, d);
    /* Every start before len - (dlen - 1) was checked whole. */
    d->scanned = len + 1 > s->dlen ? len + 1 - s->dlen : 0;
    if (d->scanned < start)
      d->scanned = start;
    d->need = 0;
    return WEFT_DECODE_MORE;
  }

  n = p;
  d->frame = in;
  d->consumed = p + s->dlen;
  if (s->strip_cr && n > 0 && in[n - 1] == '\r')
    n--;
  d->frame_len = n;
  return WEFT_DECODE_FRAME;
}

static weft_decode_status_t line_decode_eof(weft_codec_ctx_t *ctx,
                                            const uint8_t *in, size_t len,
                                            weft_decode_t *d) {
  const line_state_t *s = weft_codec_state(ctx);
  line_conn_t *cs = s->discard ? weft_codec_conn_state(ctx) : NULL;

  (void)in;
  /* The tail of a line already discarded: nothing to report again. */
  if (cs != NULL && cs->discarding) {
    d->consumed = len;
    return WEFT_DECODE_SKIP;
  }
  /* decode() already took every complete line: what is left has no
   * delimiter. */
  d->error = WEFT_ETRUNC;
  d->reason = "unterminated line at end of stream";
  d->consumed = 0; /* where the unfinished line starts */
  return WEFT_DECODE_ERROR;
}

/*
 * Whole lines one after another, as decode() finds them from a line's
 * start: the first delimiter at most max_length bytes in.  A line not yet
 * ended, an over-long one or one being discarded is left to decode().
 */
static size_t line_decode_many(weft_codec_ctx_t *ctx, const uint8_t *in,
                               size_t len, weft_frame_t *frames, size_t max,
                               size_t *used) {
  const line_state_t *s = weft_codec_state(ctx);
  const uint8_t *p = in, *end = in + len, *hit;
  weft_frame_t *f = frames, *fend = frames + max;
  const size_t max_length = s->max_length;
  size_t q;

  if (s->discard) {
    line_conn_t *cs = weft_codec_conn_state(ctx);
    if (cs != NULL && cs->discarding) {
      *used = 0;
      return 0;
    }
  }
  /*
   * A delimiter may start at index max_length at most.  memchr looks past
   * that (to the end of the read at most, once per call), which costs less
   * than bounding each search; a line found too long is left to decode().
   */
  if (s->dlen == 1 && !s->strip_cr) {
    while (f < fend) {
      hit = memchr(p, s->delim[0], (size_t)(end - p));
      if (hit == NULL || (size_t)(hit - p) > max_length)
        break;
      f->data = p;
      f->len = (size_t)(hit - p);
      f++;
      p = hit + 1;
    }
  } else if (s->dlen == 1) {
    while (f < fend) {
      hit = memchr(p, '\n', (size_t)(end - p));
      if (hit == NULL || (size_t)(hit - p) > max_length)
        break;
      f->data = p;
      f->len = (size_t)(hit - p) - (hit > p && hit[-1] == '\r');
      f++;
      p = hit + 1;
    }
  } else {
    while (f < fend && p < end) {
      q = line_find(s, p, (size_t)(end - p), 0, s->max_length);
      if (q == LINE_NONE)
        break;
      f->data = p;
      f->len = q; /* strip_cr needs the delimiter "\n" */
      f++;
      p += q + s->dlen;
    }
  }
  *used = (size_t)(p - in);
  return (size_t)(f - frames);
}

/*
 * Copying a short frame and checking that it holds no delimiter byte, in
 * one pass where a memchr and a memcpy would make two.  `hits` gathers
 * what the checks found, across a whole batch: non-zero when some frame
 * holds the byte.  With GCC's vector extensions (SSE2 on x86-64, NEON on
 * arm64, plain words elsewhere) 16 bytes a step; 8 to 15 bytes as two
 * overlapping words, fewer byte by byte.
 */
#if defined(__GNUC__)
/* Inlined into the batch loop, the scan state lives in registers. */
#define LINE_INLINE inline __attribute__((always_inline))
#else
#define LINE_INLINE inline
#endif
#define LINE_ONES ((uint64_t)0x0101010101010101ull)
#define LINE_HIGHS ((uint64_t)0x8080808080808080ull)

/* Non-zero when the word w holds the byte whose copies fill `bc`. */
static inline uint64_t line_word_has(uint64_t w, uint64_t bc) {
  w ^= bc;
  return (w - LINE_ONES) & ~w & LINE_HIGHS;
}

#if defined(__GNUC__) && !defined(LINE_NO_VECTORS)
typedef uint8_t line_v16 __attribute__((vector_size(16)));

typedef struct {
  line_v16 vc; /* the byte, 16 times */
  uint64_t bc; /* the byte, 8 times */
  line_v16 vhits;
  uint64_t hits;
} line_scan_t;

static inline void line_scan_init(line_scan_t *k, uint8_t c) {
  memset(&k->vc, c, sizeof(k->vc));
  k->bc = LINE_ONES * c;
  memset(&k->vhits, 0, sizeof(k->vhits));
  k->hits = 0;
}

/* Copies 16 bytes and checks them. */
static LINE_INLINE void line_copy16(line_scan_t *k, uint8_t *dst,
                                    const uint8_t *src) {
  line_v16 x;

  memcpy(&x, src, 16);
  memcpy(dst, &x, 16);
  k->vhits |= (line_v16)(x == k->vc);
}

static inline int line_scan_found(const line_scan_t *k) {
  uint64_t h[2];

  memcpy(h, &k->vhits, sizeof(h));
  return (h[0] | h[1] | k->hits) != 0;
}
#else
typedef struct {
  uint64_t bc;
  uint64_t hits;
} line_scan_t;

static inline void line_scan_init(line_scan_t *k, uint8_t c) {
  k->bc = LINE_ONES * c;
  k->hits = 0;
}

static LINE_INLINE void line_copy16(line_scan_t *k, uint8_t *dst,
                                    const uint8_t *src) {
  uint64_t w[2];

  memcpy(w, src, 16);
  memcpy(dst, w, 16);
  k->hits |= line_word_has(w[0], k->bc) | line_word_has(w[1], k->bc);
}

static inline int line_scan_found(const line_scan_t *k) {
  return k->hits != 0;
}
#endif

/* Copies src[0..len) to dst, checking every byte. */
static LINE_INLINE void line_copy_check(line_scan_t *k, uint8_t *dst,
                                        const uint8_t *src, size_t len) {
  uint64_t w0, w1;
  size_t i;

  if (len >= 16) {
    for (i = 0; i + 32 < len; i += 32) {
      line_copy16(k, dst + i, src + i);
      line_copy16(k, dst + i + 16, src + i + 16);
    }
    if (i + 16 < len)
      line_copy16(k, dst + i, src + i);
    /* The last 16 bytes, overlapping what was done. */
    line_copy16(k, dst + len - 16, src + len - 16);
  } else if (len >= 8) {
    memcpy(&w0, src, 8);
    memcpy(&w1, src + len - 8, 8);
    memcpy(dst, &w0, 8);
    memcpy(dst + len - 8, &w1, 8);
    k->hits |= line_word_has(w0, k->bc) | line_word_has(w1, k->bc);
  } else {
    for (i = 0; i < len; i++) {
      dst[i] = src[i];
      k->hits |= (uint64_t)(src[i] == (uint8_t)k->bc);
    }
  }
}

static int line_encode(weft_codec_ctx_t *ctx, const uint8_t *frame, size_t len,
                       weft_out_t *out) {
  const line_state_t *s = weft_codec_state(ctx);
  line_scan_t k;
  uint8_t *p;

  if (!s->append)
    return len > 0 ? weft_out_append(out, frame, len) : 0;

  if (len > s->max_length)
    return WEFT_EMSGSIZE;
  /* A trailing "\r" would be stripped by the peer's decoder. */
  if (s->strip_cr && len > 0 && frame[len - 1] == '\r')
    return WEFT_EINVAL;
  if (s->dlen == 1) {
    /* One delimiter byte: the frame must not hold it. */
    if (len >= LINE_APART) {
      if (memchr(frame, s->delim[0], len) != NULL)
        return WEFT_EINVAL;
      /* Appended apart, a large frame can go out without being copied. */
      if (weft_out_append(out, frame, len) != 0)
        return WEFT_ENOMEM;
      return weft_out_append(out, s->delim, 1);
    }
    p = weft_out_reserve(out, len + 1);
    if (p == NULL)
      return WEFT_ENOMEM;
    line_scan_init(&k, s->delim[0]);
    line_copy_check(&k, p, frame, len);
    if (line_scan_found(&k))
      return WEFT_EINVAL; /* what was appended is discarded */
    p[len] = s->delim[0];
    return 0;
  }

  p = weft_out_reserve(out, len + s->dlen);
  if (p == NULL)
    return WEFT_ENOMEM;
  if (len > 0)
    memcpy(p, frame, len);
  memcpy(p + len, s->delim, s->dlen);
  /* The peer must find the first delimiter exactly at the end: one inside
   * the frame, or one made of the frame's tail and the delimiter's head
   * ("a" + "aa"), would split it. */
  if (line_find(s, p, len + s->dlen, 0, len) != len)
    return WEFT_EINVAL; /* what was appended is discarded */
  return 0;
}

/*
 * Lines line_decode_many() returned (weft_out_decoded), one call's, in
 * order: none holds the delimiter or passes max_length, and each is
 * followed in the input by its own delimiter unless strip_cr dropped a
 * "\r" before it.  A run of lines
 * each followed by the delimiter, one after another, is the input itself:
 * it goes out as it came, in one append (which the engine may send by
 * reference, without a copy).  A line that lost its "\r" is copied.
 */
static int line_encode_decoded(const line_state_t *s,
                               const weft_frame_t *frames, size_t n,
                               weft_out_t *out) {
  const uint8_t d = s->delim[0];
  const uint8_t *start, *end, *src;
  size_t i = 0, len;
  uint8_t *p;
  int r;

  /* One decode_many call returns lines one after another: without
   * strip_cr each is followed by its delimiter, and the batch is the input
   * from the first line's start to the last one's delimiter. */
  if (!s->strip_cr) {
    start = frames[0].data;
    end = frames[n - 1].data + frames[n - 1].len + 1;
    return weft_out_append(out, start, (size_t)(end - start));
  }
  while (i < n) {
    start = end = frames[i].data;
    while (i < n && frames[i].data == end && end[frames[i].len] == d) {
      end += frames[i].len + 1;
      i++;
    }
    if (end > start) {
      if ((r = weft_out_append(out, start, (size_t)(end - start))) != 0)
        return r;
      continue;
    }
    src = frames[i].data;
    len = frames[i].len;
    /* "a\r\r\n" decodes to "a\r", which the peer would strip. */
    if (s->strip_cr && len > 0 && src[len - 1] == '\r')
      return WEFT_EINVAL;
    p = weft_out_reserve(out, len + 1);
    if (p == NULL)
      return WEFT_ENOMEM;
    if (len > 0)
      memcpy(p, src, len);
    p[len] = d;
    i++;
  }
  return 0;
}

/*
 * A batch.  With the delimiter appended and one byte long, the short lines
 * go in one reservation, each copied and checked in one pass, and one test
 * at the end says whether any of them held the delimiter; anything else
 * goes as encode() does it.
 */
static int line_encode_many(weft_codec_ctx_t *ctx, const weft_frame_t *frames,
                            size_t n, weft_out_t *out) {
  const line_state_t *s = weft_codec_state(ctx);
  /* Frames below this go in the batch: short, and not over the limit. */
  const size_t small =
      s->max_length < LINE_APART ? s->max_length + 1 : LINE_APART;
  const uint8_t d = s->delim[0];
  const int strip_cr = s->strip_cr;
  size_t i = 0, j, total, len;
  const uint8_t *src;
  line_scan_t k;
  uint8_t *p;
  int r;

  if (!s->append || s->dlen != 1) {
    for (; i < n; i++)
      if ((r = line_encode(ctx, frames[i].data, frames[i].len, out)) != 0)
        return r;
    return 0;
  }
  if (weft_out_decoded(out))
    return line_encode_decoded(s, frames, n, out);
  line_scan_init(&k, d);
  while (i < n) {
    total = 0;
    for (j = i; j < n && frames[j].len < small; j++)
      total += frames[j].len + 1;
    if (j > i) {
      p = weft_out_reserve(out, total);
      if (p == NULL)
        return WEFT_ENOMEM;
      for (; i < j; i++) {
        src = frames[i].data;
        len = frames[i].len;
        /* A trailing "\r" would be stripped by the peer's decoder. */
        if (strip_cr && len > 0 && src[len - 1] == '\r')
          return WEFT_EINVAL;
        line_copy_check(&k, p, src, len);
        p[len] = d;
        p += len + 1;
      }
      if (line_scan_found(&k))
        return WEFT_EINVAL; /* which frame: the engine asks encode() */
    }
    if (i < n) {
      if ((r = line_encode(ctx, frames[i].data, frames[i].len, out)) != 0)
        return r;
      i++;
    }
  }
  return 0;
}

static const weft_codec_vtable_t line_vtable = {
    sizeof(weft_codec_vtable_t),
    line_create,
    line_destroy,
    line_conn_init, /* state only with on_overflow = "discard" */
    line_conn_free,
    line_decode,
    line_decode_eof,
    line_encode,
    line_decode_many,
    line_encode_many,
};

WEFT_CODEC_PLUGIN("line", "1.1", &line_vtable);
