/*
 * Unit tests of the built-in handlers (plugins/echo.c, stats.c, pubsub.c)
 * on in-memory connections (weft_embed): no socket, no weftd.  pubsub's
 * topics span connections: two embedded connections, each on its own
 * stand-in worker, reach each other through weft_post() and the mailbox,
 * as connections on two workers of weftd do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <weft/weft.h>

/* A C string literal with its length, NULs and all. */
#define S(lit) lit, sizeof(lit) - 1

static weft_embed_t *embed(const char *codec, const char *copts,
                           const char *handler, const char *hopts) {
  weft_embed_t *e = NULL;

  assert_non_null(weft_embed_builtin(codec));
  assert_non_null(weft_embed_builtin(handler));
  assert_int_equal(weft_embed_new(&e, weft_embed_builtin(codec), copts,
                                  weft_embed_builtin(handler), hopts),
                   0);
  return e;
}

static void send_frame(weft_embed_t *e, const char *f) {
  assert_int_equal(weft_embed_feed_frame(e, f, strlen(f)), 0);
}

static void expect_frame_n(weft_embed_t *e, const void *want, size_t len) {
  const uint8_t *f;
  size_t n;

  assert_int_equal(weft_embed_read_frame(e, &f, &n), 1);
  assert_int_equal(n, len);
  assert_memory_equal(f, want, len);
}

static void expect_frame(weft_embed_t *e, const char *want) {
  expect_frame_n(e, want, strlen(want));
}

static void expect_frame_prefix(weft_embed_t *e, const char *want) {
  const uint8_t *f;
  size_t n;

  assert_int_equal(weft_embed_read_frame(e, &f, &n), 1);
  assert_true(n >= strlen(want));
  assert_memory_equal(f, want, strlen(want));
}

static void expect_no_frame(weft_embed_t *e) {
  const uint8_t *f;
  size_t n;

  assert_int_equal(weft_embed_read_frame(e, &f, &n), 0);
}

/* ---- echo --------------------------------------------------------------- */

typedef struct {
  const char *codec;
  const char *opts;
  int empty_ok;  /* an empty frame is a frame on the wire */
  int binary_ok; /* frames may hold "\n" */
} codec_case_t;

static const codec_case_t codecs[] = {
    {"line", NULL, 1, 0},
    {"length", "length_size = 2;", 1, 1},
    {"netstring", NULL, 1, 1},
    {"varint", NULL, 1, 1},
    {"fixed", "frame_size = 4;", 0, 1},
    {"raw", NULL, 0, 1},
};

/* echo answers every frame with itself, in every codec: frame for frame,
 * and byte for byte on the wire however the bytes arrive. */
static void test_echo_every_codec(void **state) {
  static const struct {
    const char *f;
    size_t len;
  } frames[] = {{S("ping")}, {S("")}, {S("a\nb\0")}, {S("1234")}};
  const uint8_t *wire;
  uint8_t *copy;
  size_t i, k, n;

  (void)state;
  for (i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
    const codec_case_t *cc = &codecs[i];
    weft_embed_t *a = embed(cc->codec, cc->opts, "echo", NULL), *b;

    print_message("codec %s\n", cc->codec);
    /* Frame for frame. */
    for (k = 0; k < sizeof(frames) / sizeof(frames[0]); k++) {
      if ((frames[k].len == 0 && !cc->empty_ok) ||
          (memchr(frames[k].f, '\n', frames[k].len) && !cc->binary_ok))
        continue;
      assert_int_equal(weft_embed_feed_frame(a, frames[k].f, frames[k].len), 0);
      expect_frame_n(a, frames[k].f, frames[k].len);
      expect_no_frame(a);
    }
    /* The wire: A's reply bytes, fed to B one byte at a time, come back
     * unchanged (the same frames, encoded the same way). */
    send_frame(a, "wxyz");
    send_frame(a, "1234");
    n = weft_embed_output(a, &wire);
    assert_true(n >= 8);
    copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, wire, n);
    b = embed(cc->codec, cc->opts, "echo", NULL);
    for (k = 0; k < n; k++)
      assert_int_equal(weft_embed_feed(b, copy + k, 1), 0);
    n = weft_embed_output(b, &wire);
    assert_int_equal(n, weft_embed_output(a, NULL));
    assert_memory_equal(wire, copy, n);
    free(copy);
    assert_int_equal(weft_embed_closed(a, NULL, NULL), 0);
    assert_int_equal(weft_embed_closed(b, NULL, NULL), 0);
    weft_embed_free(b);
    weft_embed_free(a);
  }
}

/* A reply the codec cannot encode closes the connection with the codec's
 * error, after the earlier replies (echo returns weft_conn_send's error). */
static void test_echo_unsendable(void **state) {
  weft_embed_t *e = embed("line", NULL, "echo", NULL);
  const char *detail = NULL;
  int reason = 0;

  (void)state;
  /* "abc\r\r\n" decodes to "abc\r", whose "\r" the peer would strip. */
  assert_int_equal(weft_embed_feed(e, S("ok\nabc\r\r\nnext\n")), 0);
  expect_frame(e, "ok");
  expect_no_frame(e);
  assert_int_equal(weft_embed_closed(e, &reason, &detail), 2);
  assert_int_equal(reason, WEFT_EINVAL);
  assert_non_null(detail);
  weft_embed_free(e);
  /* The peer's encoder refuses the same way: nothing is fed. */
  e = embed("fixed", "frame_size = 4;", "echo", NULL);
  assert_int_equal(weft_embed_feed_frame(e, S("toolong")), WEFT_EMSGSIZE);
  assert_int_equal(weft_embed_feed_frame(e, S("abc")), WEFT_EINVAL);
  assert_int_equal(weft_embed_feed(e, S("abcd")), 0);
  expect_frame(e, "abcd");
  assert_int_equal(weft_embed_eof(e), 0);
  assert_int_equal(weft_embed_closed(e, &reason, NULL), 2);
  assert_int_equal(reason, 0);
  weft_embed_free(e);
}

/* ---- stats -------------------------------------------------------------- */

/* Reads the reply to one request: lines up to "end"; returns the line of
 * the embedded listener's worker 0. */
static char *stats_reply(weft_embed_t *e) {
  const uint8_t *f;
  size_t n;
  char *mine = NULL;
  int lines = 0;

  for (;;) {
    assert_int_equal(weft_embed_read_frame(e, &f, &n), 1);
    if (n == 3 && memcmp(f, "end", 3) == 0)
      break;
    lines++;
    if (n > 24 && memcmp(f, "listener=embed worker=0 ", 24) == 0) {
      assert_null(mine);
      mine = strndup((const char *)f, n);
    }
  }
  /* This listener per worker and in all, then every worker and all. */
  assert_int_equal(lines, 4);
  assert_non_null(mine);
  return mine;
}

static void test_stats(void **state) {
  weft_embed_t *e = embed("line", NULL, "stats", NULL);
  char *line;

  (void)state;
  send_frame(e, "stats please");
  line = stats_reply(e);
  assert_non_null(strstr(line, " conns_open=1 "));
  assert_non_null(strstr(line, " conns_total=1 "));
  assert_non_null(strstr(line, " frames_in=1 "));
  assert_non_null(strstr(line, " bytes_in=13 "));
  assert_non_null(strstr(line, " frames_out=0 "));
  free(line);
  expect_no_frame(e);
  /* The counters move by what happened: the first reply went out. */
  send_frame(e, "");
  line = stats_reply(e);
  assert_non_null(strstr(line, " frames_in=2 "));
  assert_non_null(strstr(line, " frames_out=5 "));
  assert_non_null(strstr(line, " bytes_in=14 "));
  free(line);
  weft_embed_free(e);
}

/* ---- pubsub ------------------------------------------------------------- */

static void test_pubsub_between_connections(void **state) {
  weft_embed_t *a = embed("line", NULL, "pubsub", NULL);
  weft_embed_t *b = embed("line", NULL, "pubsub", NULL);
  weft_embed_t *c = embed("length", "length_size = 2;", "pubsub", NULL);
  const uint8_t *f;
  size_t n;

  (void)state;
  send_frame(b, "SUB news");
  expect_frame(b, "OK SUB news");
  send_frame(c, "sub news");
  expect_frame(c, "OK SUB news");
  send_frame(a, "PUB news hello world");
  expect_frame(a, "OK PUB news 2");
  /* Delivered through each subscriber's mailbox, in its own framing. */
  expect_frame(b, "MSG news hello world");
  expect_no_frame(b);
  n = weft_embed_output(c, &f);
  assert_int_equal(n, 2 + 20);
  assert_memory_equal(f, "\0\24MSG news hello world", n);
  expect_frame(c, "MSG news hello world");
  /* A binary payload reaches the length-framed subscriber whole. */
  assert_int_equal(weft_embed_feed_frame(c, S("PUB news \n\0\n")), 0);
  expect_frame(c, "OK PUB news 2");
  expect_frame_n(c, S("MSG news \n\0\n"));
  /* The line subscriber cannot take it: dropped and counted, not closed. */
  expect_no_frame(b);
  assert_int_equal(weft_embed_closed(b, NULL, NULL), 0);
  send_frame(a, "STATS");
  expect_frame_prefix(a, "STATS topics=1 subscriptions=2 ");
  send_frame(a, "PING");
  expect_frame(a, "PONG");
  /* After UNSUB, nothing more; a closed subscriber is gone too. */
  send_frame(b, "UNSUB news");
  expect_frame(b, "OK UNSUB news");
  assert_int_equal(weft_embed_reset(c), 0);
  send_frame(a, "PUB news again");
  expect_frame(a, "OK PUB news 0");
  expect_no_frame(b);
  send_frame(a, "BOGUS");
  expect_frame_prefix(a, "ERR ");
  weft_embed_free(c);
  weft_embed_free(b);
  weft_embed_free(a);
}

/* A subscriber that does not read: messages wait in order, then flow
 * when it reads again (on_writable). */
static void test_pubsub_slow_subscriber(void **state) {
  weft_embed_t *a = embed("line", NULL, "pubsub", "ack_publish = false;");
  weft_embed_t *b = embed("line", NULL, "pubsub", NULL);
  char msg[32];
  int i;

  (void)state;
  assert_int_equal(weft_embed_settings(b, "high_watermark = 16; "
                                          "low_watermark = 8;"),
                   0);
  send_frame(b, "SUB t");
  expect_frame(b, "OK SUB t");
  assert_int_equal(weft_embed_set_peer_reading(b, 0), 0);
  for (i = 0; i < 6; i++) {
    snprintf(msg, sizeof(msg), "PUB t m%d", i);
    send_frame(a, msg);
  }
  expect_no_frame(a); /* ack_publish = false */
  assert_int_equal(weft_embed_run(b), 0);
  assert_int_equal(weft_conn_writable(weft_embed_conn(b)), 0);
  expect_no_frame(b);
  assert_int_equal(weft_embed_set_peer_reading(b, 1), 0);
  for (i = 0; i < 6; i++) {
    snprintf(msg, sizeof(msg), "MSG t m%d", i);
    expect_frame(b, msg);
  }
  expect_no_frame(b);
  weft_embed_free(b);
  weft_embed_free(a);
}

/* on_full = "disconnect": a subscriber that falls queue_limit behind is
 * closed with WEFT_EAGAIN, its last words queued behind the rest. */
static void test_pubsub_disconnects_laggard(void **state) {
  weft_embed_t *a = embed("line", NULL, "pubsub", "ack_publish = false;");
  weft_embed_t *b = embed("line", NULL, "pubsub",
                          "queue_limit = 2; on_full = \"disconnect\";");
  const char *detail = NULL;
  int i, reason = 0;

  (void)state;
  assert_int_equal(weft_embed_settings(b, "high_watermark = 8; "
                                          "low_watermark = 4;"),
                   0);
  send_frame(b, "SUB t");
  expect_frame(b, "OK SUB t");
  assert_int_equal(weft_embed_set_peer_reading(b, 0), 0);
  /* Two fill the socket, two wait in pubsub's queue, the fifth is one
   * too many. */
  for (i = 0; i < 5; i++)
    send_frame(a, "PUB t x");
  assert_int_equal(weft_embed_closed(b, &reason, &detail), 1);
  assert_int_equal(reason, WEFT_EAGAIN);
  /* What was written still reaches a peer that reads, then the close. */
  assert_int_equal(weft_embed_set_peer_reading(b, 1), 0);
  expect_frame(b, "MSG t x");
  expect_frame(b, "MSG t x");
  expect_frame(b, "ERR queue full: disconnecting");
  expect_no_frame(b);
  assert_int_equal(weft_embed_closed(b, NULL, NULL), 2);
  /* The subscription went with the connection. */
  send_frame(a, "STATS");
  expect_frame_prefix(a, "STATS topics=0 subscriptions=0 ");
  weft_embed_free(b);
  weft_embed_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo_every_codec),
      cmocka_unit_test(test_echo_unsendable),
      cmocka_unit_test(test_stats),
      cmocka_unit_test(test_pubsub_between_connections),
      cmocka_unit_test(test_pubsub_slow_subscriber),
      cmocka_unit_test(test_pubsub_disconnects_laggard),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
