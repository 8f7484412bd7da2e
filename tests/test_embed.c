/*
 * The engine's connection semantics, observed through the in-memory test
 * API (weft_embed): framing across feeds, decode errors and skips, EOF,
 * backpressure and the watermarks, every timeout, shutdown, mailboxes,
 * resets, and that nothing reaches a handler after on_close.  Uses only
 * the public API, as a plugin author's test would.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <weft/weft.h>

/* ---- a handler that records what it sees ------------------------------ */

#define REC_MAX 2048

static struct {
  int opens, closes, frames, writables, messages, errors, shutdowns;
  int after_close; /* callbacks after on_close: must stay 0 */
  int close_reason;
  char close_detail[256];
  int error_code;
  char seen[REC_MAX][16]; /* the first frames, as strings */
  /* knobs */
  int refuse_open;
  int quiet;   /* do not echo */
  int echoing; /* "again" messages post themselves again */
  int twice;   /* echo every frame twice */
  int stop_every; /* weft_conn_read_stop() after every N-th frame */
} rec;

static void rec_check(void) {
  if (rec.closes > 0)
    rec.after_close++;
}

static int rec_open(weft_conn_t *c) {
  (void)c;
  rec_check();
  rec.opens++;
  return rec.refuse_open ? WEFT_EHANDLER : 0;
}

static int rec_frame(weft_conn_t *c, const uint8_t *f, size_t len) {
  rec_check();
  if (rec.frames < REC_MAX)
    snprintf(rec.seen[rec.frames], sizeof(rec.seen[0]), "%.*s",
             (int)(len < 15 ? len : 15), (const char *)f);
  rec.frames++;
  if (rec.stop_every > 0 && rec.frames % rec.stop_every == 0)
    weft_conn_read_stop(c);
  if (len == 4 && memcmp(f, "quit", 4) == 0) {
    weft_conn_close(c, 0);
    return 0;
  }
  if (len == 4 && memcmp(f, "fail", 4) == 0)
    return WEFT_EPROTO;
  if (rec.quiet)
    return 0;
  if (rec.twice && weft_conn_send(c, f, len) != 0)
    return WEFT_ENOMEM;
  return weft_conn_send(c, f, len);
}

static void rec_writable(weft_conn_t *c) {
  (void)c;
  rec_check();
  rec.writables++;
}

static void rec_close(weft_conn_t *c, int reason, const char *detail) {
  (void)c;
  rec_check();
  rec.closes++;
  rec.close_reason = reason;
  snprintf(rec.close_detail, sizeof(rec.close_detail), "%s",
           detail ? detail : "");
}

static void rec_shutdown(weft_conn_t *c) {
  (void)c;
  rec_check();
  rec.shutdowns++;
}

static void rec_message(weft_conn_t *c, void *msg) {
  rec_check();
  rec.messages++;
  if (strcmp(msg, "close") == 0) {
    weft_conn_close(c, 0);
  } else if (strcmp(msg, "again") == 0) {
    if (rec.echoing && weft_post(weft_conn_ref(c), "again", NULL) != 0)
      rec.echoing = -1;
  } else
    weft_conn_send(c, msg, strlen(msg));
}

static void rec_error(weft_conn_t *c, int error, const char *reason) {
  (void)c;
  (void)reason;
  rec_check();
  rec.errors++;
  rec.error_code = error;
}

static const weft_handler_vtable_t rec_vtable = {
    .struct_size = sizeof(weft_handler_vtable_t),
    .on_open = rec_open,
    .on_frame = rec_frame,
    .on_writable = rec_writable,
    .on_close = rec_close,
    .on_shutdown = rec_shutdown,
    .on_message = rec_message,
    .on_error = rec_error,
};

/* A descriptor as WEFT_HANDLER_PLUGIN makes one, but not exported. */
static const weft_plugin_t rec_plugin = {
    .magic = WEFT_PLUGIN_MAGIC,
    .abi_major = WEFT_ABI_MAJOR,
    .abi_minor = WEFT_ABI_MINOR,
    .struct_size = (uint32_t)sizeof(weft_plugin_t),
    .kind = WEFT_PLUGIN_HANDLER,
    .name = "rec",
    .version = "1.0",
    .vtable = &rec_vtable,
};

/* ---- helpers ------------------------------------------------------------ */

static weft_embed_t *open_line(const char *codec_opts, const char *settings) {
  weft_embed_t *e = NULL;

  memset(&rec, 0, sizeof(rec));
  assert_int_equal(weft_embed_new(&e, weft_embed_builtin("line"), codec_opts,
                                  &rec_plugin, NULL),
                   0);
  assert_non_null(e);
  if (settings != NULL)
    assert_int_equal(weft_embed_settings(e, settings), 0);
  return e;
}

static void feed_str(weft_embed_t *e, const char *s) {
  assert_int_equal(weft_embed_feed(e, s, strlen(s)), 0);
}

/* The next frame the connection wrote is s. */
static void expect_frame(weft_embed_t *e, const char *s) {
  const uint8_t *f;
  size_t n;

  assert_int_equal(weft_embed_read_frame(e, &f, &n), 1);
  assert_int_equal(n, strlen(s));
  assert_memory_equal(f, s, n);
}

static void expect_no_frame(weft_embed_t *e) {
  const uint8_t *f;
  size_t n;

  assert_int_equal(weft_embed_read_frame(e, &f, &n), 0);
}

static void expect_closed(weft_embed_t *e, int how, int reason,
                          const char *detail_part) {
  const char *detail = NULL;
  int r = -1;

  assert_int_equal(weft_embed_closed(e, &r, &detail), how);
  assert_int_equal(r, reason);
  assert_int_equal(rec.closes, 1);
  assert_int_equal(rec.close_reason, reason);
  if (detail_part != NULL) {
    assert_non_null(detail);
    assert_non_null(strstr(detail, detail_part));
    assert_string_equal(detail, rec.close_detail);
  }
}

/* One counter of the embedded listener, from weft_conn_stats(). */
typedef struct {
  const char *key;
  long long value;
} stat_t;

static int stat_line(void *arg, const char *line) {
  stat_t *s = arg;
  char pat[64];
  const char *p;

  if (strncmp(line, "listener=embed worker=all ", 26) != 0)
    return 0;
  snprintf(pat, sizeof(pat), " %s=", s->key);
  p = strstr(line, pat);
  if (p != NULL)
    s->value = strtoll(p + strlen(pat), NULL, 10);
  return 0;
}

static long long stat_of(weft_embed_t *e, const char *key) {
  stat_t s = {key, -1};

  assert_int_equal(weft_conn_stats(weft_embed_conn(e), stat_line, &s), 0);
  assert_true(s.value >= 0);
  return s.value;
}

/* ---- framing ----------------------------------------------------------- */

static void test_partial_frames(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);

  (void)state;
  assert_int_equal(rec.opens, 1);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_FRAME_TIMEOUT), 0);
  feed_str(e, "hel");
  assert_int_equal(rec.frames, 0);
  expect_no_frame(e);
  /* A frame begun arms the frame timeout; finishing it disarms it. */
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_FRAME_TIMEOUT), 1);
  feed_str(e, "lo");
  assert_int_equal(rec.frames, 0);
  feed_str(e, "\nwor");
  assert_int_equal(rec.frames, 1);
  assert_string_equal(rec.seen[0], "hello");
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_FRAME_TIMEOUT), 1);
  feed_str(e, "ld\n");
  assert_int_equal(rec.frames, 2);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_FRAME_TIMEOUT), 0);
  expect_frame(e, "hello");
  expect_frame(e, "world");
  expect_no_frame(e);
  assert_int_equal(weft_embed_closed(e, NULL, NULL), 0);
  /* Raw output, taken in pieces. */
  {
    char got[8];
    feed_str(e, "abc\n");
    assert_int_equal(weft_embed_take(e, got, 2), 2);
    assert_memory_equal(got, "ab", 2);
    assert_int_equal(weft_embed_take(e, NULL, 1), 1);
    assert_int_equal(weft_embed_take(e, got, sizeof(got)), 1);
    assert_memory_equal(got, "\n", 1);
    assert_int_equal(weft_embed_take(e, got, sizeof(got)), 0);
  }
  assert_int_equal(stat_of(e, "frames_in"), 3);
  assert_int_equal(stat_of(e, "bytes_in"), 16);
  assert_int_equal(stat_of(e, "bytes_out"), 16);
  weft_embed_free(e);
  /* free closes what is still open, as a forced stop */
  assert_int_equal(rec.closes, 1);
  assert_int_equal(rec.close_reason, WEFT_ESHUTDOWN);
  assert_int_equal(rec.after_close, 0);
}

static void test_frames_per_feed(void **state) {
  static const char text[] = "a\nbb\n\nccc\r\nd\n";
  static const char *const want[] = {"a", "bb", "", "ccc", "d"};
  char big[8000];
  size_t i, n = 0;
  weft_embed_t *e;

  (void)state;
  /* Several frames in one feed, then the same bytes one at a time. */
  for (int pass = 0; pass < 2; pass++) {
    e = open_line(NULL, NULL);
    if (pass == 0)
      feed_str(e, text);
    else
      for (i = 0; i < sizeof(text) - 1; i++)
        assert_int_equal(weft_embed_feed(e, text + i, 1), 0);
    assert_int_equal(rec.frames, 5);
    for (i = 0; i < 5; i++) {
      assert_string_equal(rec.seen[i], want[i]);
      expect_frame(e, want[i]);
    }
    expect_no_frame(e);
    weft_embed_free(e);
  }
  /* 1,000 tiny frames in one read, all delivered and answered in order. */
  for (i = 0; i < 1000; i++)
    n += (size_t)snprintf(big + n, sizeof(big) - n, "%zu\n", i);
  e = open_line(NULL, NULL);
  assert_int_equal(weft_embed_feed(e, big, n), 0);
  assert_int_equal(rec.frames, 1000);
  for (i = 0; i < 1000; i++) {
    char want1[8];
    snprintf(want1, sizeof(want1), "%zu", i);
    assert_string_equal(rec.seen[i], want1);
    expect_frame(e, want1);
  }
  expect_no_frame(e);
  weft_embed_free(e);
}

/*
 * Frames the codec decodes together (line's decode_many) reach an
 * on_frame() handler one at a time.  A handler that stops reading
 * part-way gets the frame it was handling as the last; the rest wait,
 * later input behind them, and come in order when it resumes.
 */
static void test_batch_read_stop(void **state) {
  char text[64], want[8];
  size_t n = 0;
  weft_conn_t *c;
  weft_embed_t *e;
  int i, round;

  (void)state;
  e = open_line(NULL, NULL);
  c = weft_embed_conn(e);
  rec.stop_every = 3;
  for (i = 0; i < 10; i++)
    n += (size_t)snprintf(text + n, sizeof(text) - n, "a%d\n", i);
  assert_int_equal(weft_embed_feed(e, text, n), 0);
  assert_int_equal(rec.frames, 3);
  /* Input arriving while held stays unread. */
  feed_str(e, "b0\nb1\n");
  assert_int_equal(rec.frames, 3);
  assert_int_equal(weft_embed_run(e), 0);
  assert_int_equal(rec.frames, 3);
  /* Each resume delivers three more, the held frames first. */
  for (round = 2; round <= 4; round++) {
    weft_conn_read_start(c);
    assert_int_equal(weft_embed_run(e), 0);
    assert_int_equal(rec.frames, round * 3);
  }
  weft_conn_read_start(c);
  assert_int_equal(weft_embed_run(e), 0);
  assert_int_equal(rec.frames, 12);
  for (i = 0; i < 12; i++) {
    snprintf(want, sizeof(want), i < 10 ? "a%d" : "b%d", i < 10 ? i : i - 10);
    assert_string_equal(rec.seen[i], want);
    expect_frame(e, want);
  }
  expect_no_frame(e);
  assert_int_equal(stat_of(e, "frames_in"), 12);
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

/*
 * The same when the output passes the high watermark part-way through a
 * batch: replies twice the size of the requests, a peer that does not
 * read.  Reading stops after the frame that passed it; the rest of the
 * batch waits and comes in order once the peer drains the output.
 */
static void test_batch_backpressure(void **state) {
  char text[400], want[16];
  size_t n = 0;
  weft_embed_t *e;
  int i;

  (void)state;
  e = open_line(NULL, "high_watermark = 64; low_watermark = 16;");
  rec.twice = 1;
  assert_int_equal(weft_embed_set_peer_reading(e, 0), 0);
  for (i = 0; i < 20; i++)
    n += (size_t)snprintf(text + n, sizeof(text) - n, "%02d-456789\n", i);
  assert_int_equal(weft_embed_feed(e, text, n), 0);
  /* 4 frames of 10 bytes: 80 bytes of replies > 64, in the middle of the
   * first batch (6 frames, the room under the watermark). */
  assert_int_equal(rec.frames, 4);
  assert_int_equal(weft_conn_queued(weft_embed_conn(e)), 80);
  assert_int_equal(weft_conn_writable(weft_embed_conn(e)), 0);
  /* The peer reads all: every frame, answered twice, in order. */
  assert_int_equal(weft_embed_set_peer_reading(e, 1), 0);
  assert_int_equal(rec.frames, 20);
  for (i = 0; i < 20; i++) {
    snprintf(want, sizeof(want), "%02d-456789", i);
    assert_string_equal(rec.seen[i], want);
    expect_frame(e, want);
    expect_frame(e, want);
  }
  expect_no_frame(e);
  assert_int_equal(stat_of(e, "frames_in"), 20);
  assert_int_equal(stat_of(e, "frames_out"), 40);
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

/* A frame larger than the scratch buffer arrives over several reads. */
static void test_large_frame(void **state) {
  size_t len = 200 * 1024;
  char *big = malloc(len + 1);
  const uint8_t *f;
  size_t n;
  weft_embed_t *e = open_line("max_length = \"1M\";", NULL);

  (void)state;
  assert_non_null(big);
  memset(big, 'x', len);
  big[len] = '\n';
  assert_int_equal(weft_embed_feed(e, big, len + 1), 0);
  assert_int_equal(rec.frames, 1);
  assert_int_equal(weft_embed_read_frame(e, &f, &n), 1);
  assert_int_equal(n, len);
  assert_memory_equal(f, big, len);
  free(big);
  weft_embed_free(e);
}

/* ---- bad input ---------------------------------------------------------- */

static void test_decode_error_closes(void **state) {
  weft_embed_t *e = open_line("max_length = 4;", NULL);

  (void)state;
  feed_str(e, "ok\nabcdefg\nnever\n");
  /* The frame before the error is answered, then the close. */
  assert_int_equal(rec.frames, 1);
  expect_frame(e, "ok");
  expect_no_frame(e);
  expect_closed(e, 2, WEFT_EMSGSIZE, "max_length");
  assert_int_equal(stat_of(e, "decode_errors"), 1);
  /* Nothing is silently lost: later bytes are refused. */
  assert_int_equal(weft_embed_feed(e, "x\n", 2), WEFT_ECLOSED);
  assert_int_equal(weft_embed_eof(e), WEFT_ECLOSED);
  assert_int_equal(weft_embed_reset(e), WEFT_ECLOSED);
  assert_int_equal(weft_embed_post(e, "m", NULL), WEFT_ECLOSED);
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_IDLE_TIMEOUT), WEFT_ENOENT);
  assert_int_equal(rec.after_close, 0);
  weft_embed_free(e);
  assert_int_equal(rec.closes, 1);
}

static void test_handler_refuses_frame(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);

  (void)state;
  feed_str(e, "a\nfail\nb\n");
  assert_int_equal(rec.frames, 2);
  expect_frame(e, "a");
  expect_no_frame(e);
  expect_closed(e, 2, WEFT_EPROTO, "refused a frame");
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

static void test_skip_reports_error(void **state) {
  weft_embed_t *e =
      open_line("max_length = 4; on_overflow = \"discard\";", NULL);

  (void)state;
  feed_str(e, "abcdefgh\nok\n");
  assert_int_equal(rec.errors, 1);
  assert_int_equal(rec.error_code, WEFT_EMSGSIZE);
  assert_int_equal(rec.frames, 1);
  expect_frame(e, "ok");
  assert_int_equal(weft_embed_closed(e, NULL, NULL), 0);
  assert_int_equal(stat_of(e, "frames_discarded"), 1);
  weft_embed_free(e);
}

static void test_eof(void **state) {
  weft_embed_t *e;

  (void)state;
  /* A clean half-close: replies first, then an orderly close. */
  e = open_line(NULL, NULL);
  feed_str(e, "a\nb\n");
  assert_int_equal(weft_embed_eof(e), 0);
  expect_frame(e, "a");
  expect_frame(e, "b");
  expect_closed(e, 2, 0, "closed by peer");
  weft_embed_free(e);
  /* A partial frame at EOF: the earlier reply, then a truncation. */
  e = open_line(NULL, NULL);
  feed_str(e, "a\nbc");
  assert_int_equal(weft_embed_eof(e), 0);
  assert_int_equal(rec.frames, 1);
  expect_frame(e, "a");
  expect_no_frame(e);
  expect_closed(e, 2, WEFT_ETRUNC, NULL);
  assert_int_equal(weft_embed_eof(e), WEFT_ECLOSED);
  weft_embed_free(e);
  /* Only one EOF; no bytes after it. */
  e = open_line(NULL, "high_watermark = 2; low_watermark = 1;");
  weft_embed_set_peer_reading(e, 0);
  feed_str(e, "xy\nzz\n"); /* the reply to xy pauses reading */
  assert_int_equal(rec.frames, 1);
  assert_int_equal(weft_embed_eof(e), 0);
  assert_int_equal(weft_embed_eof(e), WEFT_EINVAL);
  assert_int_equal(weft_embed_feed(e, "q\n", 2), WEFT_EINVAL);
  /* The peer reads: the held input, then the EOF, are delivered. */
  assert_int_equal(weft_embed_set_peer_reading(e, 1), 0);
  assert_int_equal(rec.frames, 2);
  expect_frame(e, "xy");
  expect_frame(e, "zz");
  expect_closed(e, 2, 0, NULL);
  weft_embed_free(e);
}

/* Once the connection has closed, output that is no whole frame goes to
 * the codec's decode_eof, as it would for a peer at the end of stream. */
static void test_read_frame_at_close(void **state) {
  weft_embed_t *e = open_line("append_delimiter = false;", NULL);
  const uint8_t *f;
  size_t n;

  (void)state;
  feed_str(e, "abc\n"); /* echoed without its newline */
  assert_int_equal(weft_embed_read_frame(e, &f, &n), 0);
  assert_int_equal(weft_embed_eof(e), 0);
  assert_int_equal(weft_embed_closed(e, NULL, NULL), 2);
  assert_int_equal(weft_embed_read_frame(e, &f, &n), WEFT_ETRUNC);
  assert_int_equal(weft_embed_output(e, &f), 3);
  assert_memory_equal(f, "abc", 3);
  weft_embed_free(e);
}

static void test_reset(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);

  (void)state;
  weft_embed_set_peer_reading(e, 0);
  feed_str(e, "held\npart");
  assert_true(weft_conn_queued(weft_embed_conn(e)) > 0);
  assert_int_equal(weft_embed_reset(e), 0);
  expect_closed(e, 2, WEFT_ECONNRESET, "reset");
  /* Output the peer never read is gone with the connection. */
  assert_int_equal(weft_embed_set_peer_reading(e, 1), WEFT_ECLOSED);
  assert_int_equal(weft_embed_output(e, NULL), 0);
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

/* ---- backpressure ------------------------------------------------------ */

static void test_backpressure(void **state) {
  weft_embed_t *e;
  weft_conn_t *c;
  int i, paused_at, resumed_at;
  size_t q;

  (void)state;
  e = open_line(NULL, "high_watermark = 64; low_watermark = 16;");
  c = weft_embed_conn(e);
  assert_int_equal(weft_embed_set_peer_reading(e, 0), 0);
  for (i = 0; i < 20; i++)
    feed_str(e, "0123456789\n");
  /* Above the high watermark the connection stopped reading: the rest of
   * the input waits, and the handler is told it may not write. */
  paused_at = rec.frames;
  assert_true(paused_at > 0 && paused_at < 20);
  q = weft_conn_queued(c);
  assert_int_equal(q, (size_t)paused_at * 11);
  assert_true(q > 64);
  assert_int_equal(weft_conn_writable(c), 0);
  assert_int_equal(weft_embed_output(e, NULL), 0);
  assert_int_equal(stat_of(e, "backpressure_pauses"), 1);
  /* Output waiting on the peer: the write timeout governs, not idle. */
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_WRITE_TIMEOUT), 1);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_IDLE_TIMEOUT), 0);
  /* Held input is not a frame the peer is slow to finish. */
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_FRAME_TIMEOUT), 0);
  /* Draining, but not to the low watermark: still paused. */
  assert_int_equal(weft_embed_peer_read(e, q - 17), 0);
  assert_int_equal(weft_conn_queued(c), 17);
  assert_int_equal(rec.writables, 0);
  assert_int_equal(rec.frames, paused_at);
  /* At the low watermark: on_writable, and reading resumes. */
  assert_int_equal(weft_embed_peer_read(e, 1), 0);
  assert_int_equal(rec.writables, 1);
  resumed_at = rec.frames;
  assert_true(resumed_at > paused_at);
  /* The peer reads everything: all 20 frames, answered in order. */
  assert_int_equal(weft_embed_set_peer_reading(e, 1), 0);
  assert_int_equal(rec.frames, 20);
  assert_int_equal(weft_conn_queued(c), 0);
  assert_int_equal(weft_conn_writable(c), 1);
  assert_int_equal(weft_embed_output(e, NULL), 220);
  for (i = 0; i < 20; i++)
    expect_frame(e, "0123456789");
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_WRITE_TIMEOUT), 0);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_IDLE_TIMEOUT), 1);
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

/* ---- timeouts ---------------------------------------------------------- */

static void test_idle_timeout(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);

  (void)state;
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_IDLE_TIMEOUT), 1);
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_IDLE_TIMEOUT), 0);
  expect_closed(e, 2, WEFT_ETIMEDOUT, "idle timeout");
  assert_int_equal(stat_of(e, "timeouts_idle"), 1);
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_IDLE_TIMEOUT), WEFT_ENOENT);
  weft_embed_free(e);
  /* Turned off, it is not armed and cannot fire. */
  e = open_line(NULL, "idle_timeout = 0;");
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_IDLE_TIMEOUT), 0);
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_IDLE_TIMEOUT), WEFT_ENOENT);
  assert_int_equal(weft_embed_closed(e, NULL, NULL), 0);
  assert_int_equal(weft_embed_fire(e, 99), WEFT_EINVAL);
  weft_embed_free(e);
}

static void test_frame_timeout(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);

  (void)state;
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_FRAME_TIMEOUT), WEFT_ENOENT);
  feed_str(e, "ok\nslow");
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_FRAME_TIMEOUT), 0);
  expect_frame(e, "ok");
  expect_closed(e, 2, WEFT_ETIMEDOUT, "frame timeout");
  assert_int_equal(stat_of(e, "timeouts_frame"), 1);
  weft_embed_free(e);
  e = open_line(NULL, "frame_timeout = 0;");
  feed_str(e, "slow");
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_FRAME_TIMEOUT), 0);
  weft_embed_free(e);
}

static void test_write_timeout(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);

  (void)state;
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_WRITE_TIMEOUT), WEFT_ENOENT);
  weft_embed_set_peer_reading(e, 0);
  feed_str(e, "abcdef\n");
  assert_int_equal(weft_conn_queued(weft_embed_conn(e)), 7);
  /* A slow reader that took bytes since the last check is not cut. */
  assert_int_equal(weft_embed_peer_read(e, 3), 0);
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_WRITE_TIMEOUT), 0);
  assert_int_equal(weft_embed_closed(e, NULL, NULL), 0);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_WRITE_TIMEOUT), 1);
  /* One that took nothing since is closed at once, unread output lost. */
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_WRITE_TIMEOUT), 0);
  expect_closed(e, 2, WEFT_ETIMEDOUT, "write timeout");
  assert_int_equal(weft_embed_output(e, NULL), 3);
  assert_int_equal(stat_of(e, "timeouts_write"), 1);
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

static void test_close_timeout(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);

  (void)state;
  weft_embed_set_peer_reading(e, 0);
  feed_str(e, "bye\nquit\n");
  /* Closed by the handler, its last reply still unread: closing. */
  expect_closed(e, 1, 0, NULL);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_CLOSE_TIMEOUT), 1);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_WRITE_TIMEOUT), 0);
  assert_int_equal(weft_embed_feed(e, "more\n", 5), WEFT_ECLOSED);
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_CLOSE_TIMEOUT), 0);
  expect_closed(e, 2, 0, NULL);
  assert_int_equal(weft_embed_output(e, NULL), 0);
  weft_embed_free(e);
  /* The same, with a peer that reads: the reply, then closed. */
  e = open_line(NULL, NULL);
  feed_str(e, "bye\nquit\nafter\n");
  assert_int_equal(rec.frames, 2);
  expect_frame(e, "bye");
  expect_no_frame(e);
  expect_closed(e, 2, 0, NULL);
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

/* ---- shutdown ---------------------------------------------------------- */

static void test_shutdown_drains(void **state) {
  weft_embed_t *e;
  int i;

  (void)state;
  /* Input held back by backpressure when the stop comes is answered. */
  e = open_line(NULL, "high_watermark = 8; low_watermark = 4;");
  weft_embed_set_peer_reading(e, 0);
  for (i = 0; i < 5; i++)
    feed_str(e, "12345\n");
  assert_true(rec.frames < 5);
  assert_int_equal(weft_embed_shutdown(e), 0);
  assert_int_equal(rec.shutdowns, 1);
  assert_int_equal(weft_embed_closed(e, NULL, NULL), 0);
  assert_int_equal(weft_embed_armed(e, WEFT_EMBED_SHUTDOWN_GRACE), 1);
  assert_int_equal(weft_embed_set_peer_reading(e, 1), 0);
  assert_int_equal(rec.frames, 5);
  for (i = 0; i < 5; i++)
    expect_frame(e, "12345");
  expect_closed(e, 2, WEFT_ESHUTDOWN, "shutting down");
  assert_int_equal(weft_embed_shutdown(e), 0);
  assert_int_equal(rec.shutdowns, 1);
  weft_embed_free(e);
  /* An idle connection closes at once. */
  e = open_line(NULL, NULL);
  assert_int_equal(weft_embed_shutdown(e), 0);
  assert_int_equal(rec.shutdowns, 1);
  expect_closed(e, 2, WEFT_ESHUTDOWN, NULL);
  weft_embed_free(e);
  /* A peer that never reads is cut when the grace runs out, and counted. */
  e = open_line(NULL, NULL);
  weft_embed_set_peer_reading(e, 0);
  feed_str(e, "stuck\n");
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_SHUTDOWN_GRACE), WEFT_ENOENT);
  assert_int_equal(weft_embed_shutdown(e), 0);
  expect_closed(e, 1, WEFT_ESHUTDOWN, NULL);
  assert_int_equal(weft_embed_fire(e, WEFT_EMBED_SHUTDOWN_GRACE), 0);
  expect_closed(e, 2, WEFT_ESHUTDOWN, NULL);
  assert_int_equal(stat_of(e, "shutdown_forced"), 1);
  weft_embed_free(e);
  assert_int_equal(rec.after_close, 0);
}

/* ---- mailboxes --------------------------------------------------------- */

static int freed;
static void count_free(void *p) {
  freed++;
  free(p);
}

static void *post_from_thread(void *arg) {
  weft_conn_ref_t *ref = arg;
  char *m = strdup("from a thread");

  if (weft_post(*ref, m, count_free) != 0)
    free(m);
  return NULL;
}

static void test_post(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);
  weft_conn_ref_t ref;
  pthread_t t;
  char *m;

  (void)state;
  freed = 0;
  assert_int_equal(weft_embed_post(e, strdup("hi"), count_free), 0);
  assert_int_equal(rec.messages, 1);
  assert_int_equal(freed, 1);
  expect_frame(e, "hi");
  assert_int_equal(stat_of(e, "messages_in"), 1);
  /* weft_post from another thread reaches it at the next call. */
  ref = weft_conn_ref(weft_embed_conn(e));
  assert_true(weft_conn_ref_valid(ref));
  assert_int_equal(pthread_create(&t, NULL, post_from_thread, &ref), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(rec.messages, 1);
  assert_int_equal(weft_embed_run(e), 0);
  assert_int_equal(rec.messages, 2);
  expect_frame(e, "from a thread");
  /* A message queued behind one that closes the connection is freed,
   * not delivered. */
  assert_int_equal(weft_post(ref, strdup("close"), count_free), 0);
  assert_int_equal(weft_post(ref, strdup("late"), count_free), 0);
  assert_int_equal(weft_embed_run(e), 0);
  assert_int_equal(rec.messages, 3);
  assert_int_equal(freed, 4);
  expect_closed(e, 2, 0, NULL);
  /* After the close, posting fails and the message stays the caller's. */
  m = strdup("refused");
  assert_int_equal(weft_embed_post(e, m, count_free), WEFT_ECLOSED);
  free(m);
  weft_embed_free(e);
  assert_int_equal(freed, 4);
  assert_int_equal(rec.after_close, 0);
}

/* A handler that keeps posting to itself does not hang the test: run
 * gives up after a bounded number of rounds and says so. */
static void test_run_bounded(void **state) {
  weft_embed_t *e = open_line(NULL, NULL);
  int n;

  (void)state;
  rec.echoing = 1;
  assert_int_equal(weft_post(weft_conn_ref(weft_embed_conn(e)), "again", NULL),
                   0);
  assert_int_equal(weft_embed_run(e), 1);
  n = rec.messages;
  assert_true(n > 1);
  assert_int_equal(weft_embed_run(e), 1);
  assert_true(rec.messages > n);
  rec.echoing = 0;
  assert_int_equal(weft_embed_run(e), 0);
  n = rec.messages;
  assert_int_equal(weft_embed_run(e), 0);
  assert_int_equal(rec.messages, n);
  weft_embed_free(e);
}

/* ---- the connection and the API ---------------------------------------- */

static void test_conn_api(void **state) {
  weft_embed_t *a = open_line(NULL, NULL), *b;
  weft_conn_t *c = weft_embed_conn(a);

  (void)state;
  assert_string_equal(weft_conn_peer(c), "memory");
  assert_string_equal(weft_conn_listener(c), "embed");
  assert_int_equal(weft_conn_worker(c), 0);
  assert_non_null(weft_conn_engine(c));
  assert_int_equal(weft_engine_workers(weft_conn_engine(c)), 1);
  assert_int_equal(weft_embed_settings(a, "name = \"chat\";"), 0);
  assert_string_equal(weft_conn_listener(c), "chat");
  b = open_line(NULL, NULL);
  assert_true(weft_conn_id(weft_embed_conn(b)) != weft_conn_id(c));
  weft_embed_free(b);
  weft_embed_free(a);
}

static void test_on_open_refuses(void **state) {
  weft_embed_t *e = NULL;

  (void)state;
  memset(&rec, 0, sizeof(rec));
  rec.refuse_open = 1;
  assert_int_equal(
      weft_embed_new(&e, weft_embed_builtin("line"), NULL, &rec_plugin, NULL),
      0);
  assert_int_equal(rec.opens, 1);
  expect_closed(e, 2, WEFT_EHANDLER, "refused by the handler");
  assert_int_equal(weft_embed_feed(e, "x\n", 2), WEFT_ECLOSED);
  weft_embed_free(e);
  assert_int_equal(rec.closes, 1);
}

/* The descriptor and the options are checked as the engine checks them. */
static void test_refusals(void **state) {
  weft_handler_vtable_t small = rec_vtable;
  weft_plugin_t bad = rec_plugin;
  weft_embed_t *e = (weft_embed_t *)&e;
  const weft_plugin_t *line = weft_embed_builtin("line");

  (void)state;
  assert_non_null(line);
  assert_null(weft_embed_builtin("nosuch"));
  assert_null(weft_embed_builtin("../line"));
  assert_int_equal(weft_embed_new(&e, line, NULL, NULL, NULL), WEFT_EPLUGIN);
  assert_null(e);
  bad.magic = 0x1234;
  assert_int_equal(weft_embed_new(&e, line, NULL, &bad, NULL), WEFT_EPLUGIN);
  bad = rec_plugin;
  bad.abi_major = WEFT_ABI_MAJOR + 1;
  assert_int_equal(weft_embed_new(&e, line, NULL, &bad, NULL), WEFT_EPLUGIN);
  bad = rec_plugin;
  small.struct_size = 8;
  bad.vtable = &small;
  assert_int_equal(weft_embed_new(&e, line, NULL, &bad, NULL), WEFT_EPLUGIN);
  /* A codec given as the handler, and the other way round. */
  assert_int_equal(weft_embed_new(&e, line, NULL, line, NULL), WEFT_EPLUGIN);
  assert_int_equal(weft_embed_new(&e, &rec_plugin, NULL, &rec_plugin, NULL),
                   WEFT_EPLUGIN);
  /* Options: unknown, out of range, not libconfig, naming the plugin. */
  assert_int_equal(weft_embed_new(&e, line, "bogus = 1;", &rec_plugin, NULL),
                   WEFT_ECONFIG);
  assert_int_equal(
      weft_embed_new(&e, line, "max_length = 0;", &rec_plugin, NULL),
      WEFT_ECONFIG);
  assert_int_equal(weft_embed_new(&e, line, "max_length = ", &rec_plugin, NULL),
                   WEFT_ECONFIG);
  assert_int_equal(weft_embed_new(&e, line, "}; x = {", &rec_plugin, NULL),
                   WEFT_ECONFIG);
  assert_int_equal(
      weft_embed_new(&e, line, "name = \"raw\";", &rec_plugin, NULL),
      WEFT_ECONFIG);
  assert_int_equal(weft_embed_new(&e, line, NULL, &rec_plugin, "x = 1;"),
                   WEFT_ECONFIG);
  assert_null(e);
  assert_int_equal(weft_embed_new(NULL, line, NULL, &rec_plugin, NULL),
                   WEFT_EINVAL);
  /* Settings: weft.conf's checks; a refusal changes nothing. */
  e = open_line(NULL, "high_watermark = 100; low_watermark = 10;");
  assert_int_equal(weft_embed_settings(e, "high_watermark = 0;"), WEFT_ECONFIG);
  assert_int_equal(weft_embed_settings(e, "high_watermark = 10;"),
                   WEFT_ECONFIG); /* the default low_watermark is above */
  assert_int_equal(weft_embed_settings(e, "idle_timeout = \"soon\";"),
                   WEFT_ECONFIG);
  assert_int_equal(weft_embed_settings(e, "bind = \"127.0.0.1:1\";"),
                   WEFT_ECONFIG);
  assert_int_equal(weft_embed_settings(e, "colour = 1;"), WEFT_ECONFIG);
  assert_int_equal(weft_embed_settings(e, "name = \"a b\";"), WEFT_ECONFIG);
  assert_string_equal(weft_conn_listener(weft_embed_conn(e)), "embed");
  weft_embed_set_peer_reading(e, 0);
  feed_str(e, "0123456789012345678901234567890123456789012345678901234\n");
  feed_str(e, "0123456789012345678901234567890123456789012345678901234\n");
  /* Still the 100-byte high watermark: two 56-byte replies pause. */
  assert_int_equal(weft_conn_writable(weft_embed_conn(e)), 0);
  weft_embed_free(e);
}

/* By name, through the loader, from the built-ins and a plugin path. */
static void test_named(void **state) {
  weft_embed_t *e = NULL;
  const uint8_t *out;
  size_t n;

  (void)state;
  assert_int_equal(
      weft_embed_new_named(&e, "length", "length_size = 2;", "echo", NULL, ""),
      0);
  assert_int_equal(weft_embed_feed(e, "\0\3abc\0\0", 7), 0);
  n = weft_embed_output(e, &out);
  assert_int_equal(n, 7);
  assert_memory_equal(out, "\0\3abc\0\0", 7);
  expect_frame(e, "abc");
  expect_frame(e, "");
  weft_embed_free(e);
  /* A plugin file found in the plugin path (WEFT_PLUGIN_PATH when NULL). */
  assert_int_equal(setenv("WEFT_PLUGIN_PATH", TEST_PLUGINS, 1), 0);
  assert_int_equal(weft_embed_new_named(&e, "tcodec", NULL, "echo", NULL, NULL),
                   0);
  assert_int_equal(weft_embed_feed_frame(e, "x", 1), 0);
  expect_frame(e, "x");
  weft_embed_free(e);
  assert_int_equal(weft_embed_new_named(&e, TEST_PLUGINS "/tcodec.so", NULL,
                                        "echo", NULL, ""),
                   0);
  weft_embed_free(e);
  e = (weft_embed_t *)&e;
  assert_int_equal(weft_embed_new_named(&e, "nosuch", NULL, "echo", NULL, NULL),
                   WEFT_EPLUGIN);
  assert_null(e);
  assert_int_equal(weft_embed_new_named(&e, "echo", NULL, "echo", NULL, NULL),
                   WEFT_EPLUGIN);
  assert_int_equal(weft_embed_new_named(&e, "line", NULL, NULL, NULL, NULL),
                   WEFT_EPLUGIN);
  unsetenv("WEFT_PLUGIN_PATH");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_partial_frames),
      cmocka_unit_test(test_frames_per_feed),
      cmocka_unit_test(test_batch_read_stop),
      cmocka_unit_test(test_batch_backpressure),
      cmocka_unit_test(test_large_frame),
      cmocka_unit_test(test_decode_error_closes),
      cmocka_unit_test(test_handler_refuses_frame),
      cmocka_unit_test(test_skip_reports_error),
      cmocka_unit_test(test_eof),
      cmocka_unit_test(test_read_frame_at_close),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_backpressure),
      cmocka_unit_test(test_idle_timeout),
      cmocka_unit_test(test_frame_timeout),
      cmocka_unit_test(test_write_timeout),
      cmocka_unit_test(test_close_timeout),
      cmocka_unit_test(test_shutdown_drains),
      cmocka_unit_test(test_post),
      cmocka_unit_test(test_run_bounded),
      cmocka_unit_test(test_conn_api),
      cmocka_unit_test(test_on_open_refuses),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
