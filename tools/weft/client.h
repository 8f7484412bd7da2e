/*
 * weft: the command-line client.  `weft send` and `weft bench` talk to a
 * listener through the same codec plugins weftd serves it with, loaded by
 * the engine's own plugin loader, created with options as the engine
 * creates them, and decoding replies with the engine's framer.  The parts:
 *
 *   main.c        the subcommands, --help and --version;
 *   args.c        the options both share, durations;
 *   codec.c       a codec: loading it, its instances, one connection's side;
 *   codec_opt.c   --codec-opt NAME=VALUE, typed as a config file types it;
 *   addr.c        HOST:PORT and unix:PATH, resolved;
 *   sock.c        dialing a connection, each resolved address in turn;
 *   hex.c         hex output;
 *   input.c       what `send` sends: stdin lines, stdin bytes, or files;
 *   send.c        weft send;
 *   hist.c        latency histograms;
 *   bench.c       weft bench: options, threads, the summary;
 *   bench_conn.c  one bench connection: pipelining, checking each reply.
 *
 * One event loop per thread; `bench -t N` runs N of them, each with its own
 * codec instances (a codec instance is single-threaded, as in weftd).
 */
#ifndef WEFT_TOOLS_CLIENT_H
#define WEFT_TOOLS_CLIENT_H

#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include <weft/weft.h>

#include "buf.h"
#include "framer.h"
#include "plugin_loader.h"

/* Exit statuses: 0 all went well; 1 a network, protocol or reply error;
 * 2 the command line, the codec or its options are wrong. */
enum { WC_OK = 0, WC_FAIL = 1, WC_USAGE = 2 };

/* Every message starts with this, e.g. "weft send". */
extern const char *wc_prog;
void wc_err(const char *fmt, ...) WEFT_PRINTF(1, 2);

/* ---- args.c ---- */

/* What send and bench share: the codec, where plugins are, the timeout. */
typedef struct {
  const char *codec; /* a name, or a path (has a '/'); default "line" */
  const char **opts; /* --codec-opt NAME=VALUE */
  size_t nopts;
  const char **path; /* --plugin-path DIR */
  size_t npath;
  uint64_t timeout_ms; /* every network wait */
  const char *timeout; /* as given, for messages */
  int stream;          /* -1: decide from the codec (raw is a stream) */
  int verbose;
} wc_common_t;

/* getopt_long codes of the shared options, and their table entries. */
enum {
  WC_OPT_CODEC = 256,
  WC_OPT_CODEC_OPT,
  WC_OPT_PLUGIN_PATH,
  WC_OPT_TIMEOUT,
  WC_OPT_STREAM,
  WC_OPT_NO_STREAM,
  WC_OPT_NEXT /* the first code free for a subcommand */
};
/* clang-format off */
#define WC_COMMON_LONGOPTS                                                     \
  {"codec", required_argument, NULL, WC_OPT_CODEC},                            \
      {"codec-opt", required_argument, NULL, WC_OPT_CODEC_OPT},                \
      {"plugin-path", required_argument, NULL, WC_OPT_PLUGIN_PATH},            \
      {"timeout", required_argument, NULL, WC_OPT_TIMEOUT},                    \
      {"stream", no_argument, NULL, WC_OPT_STREAM},                            \
      {"no-stream", no_argument, NULL, WC_OPT_NO_STREAM},                      \
      {"verbose", no_argument, NULL, 'v'}
/* clang-format on */

void wc_common_init(wc_common_t *c);
void wc_common_free(wc_common_t *c);
/* Takes option ch (with arg) if it is a shared one: 1 taken, 0 not one,
 * -1 a bad value (said). */
int wc_common_opt(wc_common_t *c, int ch, const char *arg);
/* "1.5", "250ms", "2s", "1m": a duration, seconds without a unit.
 * 0 or -1. */
int wc_parse_duration(const char *s, uint64_t *ms);
/* A count in [min, max]; says what is wrong with it.  0 or -1. */
int wc_parse_count(const char *what, const char *s, uint64_t min, uint64_t max,
                   uint64_t *out);

/* ---- codec.c ---- */

/* A codec plugin, loaded once; instances are made from it. */
typedef struct {
  weft__plugins_t reg;
  weft__plugin_t *plugin;
  const weft_codec_vtable_t *vt; /* sized for this weft by the loader */
  const char *name;              /* the plugin's own */
  int stream;                    /* frame boundaries are not kept */
} wc_codec_t;

/* Loads a->codec as weftd does (plugin path, built-ins, the install
 * directory, or a file) and creates a first instance to check the options.
 * 0, or WC_USAGE with what is wrong said. */
int wc_codec_load(wc_codec_t *c, const wc_common_t *a);
/* One more instance with a's options (main thread).  0 or WC_USAGE. */
int wc_codec_new(const wc_codec_t *c, const wc_common_t *a, void **state);
void wc_codec_free(const wc_codec_t *c, void *state);
void wc_codec_unload(wc_codec_t *c);

/* The codec's side of one connection: its per-connection state and the
 * framer that decodes the replies. */
typedef struct {
  weft__framer_t fr;
  const wc_codec_t *codec;
} wc_cconn_t;

/* 0, or a WEFT_E* code from the codec's conn_init(). */
int wc_cconn_init(wc_cconn_t *cc, const wc_codec_t *c, void *state);
void wc_cconn_free(wc_cconn_t *cc);
/* Appends frame[0..len) as the codec writes it; rolled back on failure.
 * 0 or the codec's WEFT_E* code. */
int wc_cconn_encode(wc_cconn_t *cc, const void *frame, size_t len,
                    weft__buf_t *out);
/* Appends frames[0..n), in order, with the codec's encode_many (or one
 * encode() each when it has none); all rolled back on failure.  0 or the
 * codec's WEFT_E* code. */
int wc_cconn_encode_many(wc_cconn_t *cc, const weft_frame_t *frames, size_t n,
                         weft__buf_t *out);
/* "EPROTO \"reason\" at byte N": the framer's error. */
void wc_cconn_error(const wc_cconn_t *cc, char *b, size_t n);

/* ---- codec_opt.c ---- */

/* Adds "NAME=VALUE" (the index-th --codec-opt) to o, typed as libconfig
 * types a value: true/false a boolean, an integer, a number with a '.', a
 * value in double quotes or anything else a string.  0 or -1 (said). */

/* ---- addr.c ---- */

typedef struct {
  const char *text;    /* as given, for messages */
  char *path;          /* unix:PATH */
  struct addrinfo *ai; /* HOST:PORT, every address it resolves to */
} wc_addr_t;

/* 0, or -1 with what is wrong said. */
int wc_addr_resolve(wc_addr_t *a, const char *text);
void wc_addr_free(wc_addr_t *a);

/* ---- sock.c ---- */

typedef struct wc_sock wc_sock_t;
typedef void (*wc_sock_cb)(wc_sock_t *s, int status);

struct wc_sock {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;
  uv_connect_t req;
  uv_loop_t *loop;
  const wc_addr_t *addr;
  const struct addrinfo *next; /* the next address to try */
  char peer[80];               /* the address being tried */
  int status;                  /* the last attempt's */
  int open;                    /* h is initialized and not closed */
  int retrying;                /* a failed attempt's h is closing */
  wc_sock_cb on_connect;
  void (*on_close)(wc_sock_t *s);
  void *data;
};

/*
 * Connects to a's addresses in turn until one answers, then calls cb with
 * 0 and s->h open.  When none does, cb gets the last error with the handle
 * already closed.  TCP connections get TCP_NODELAY.
 */
void wc_sock_connect(wc_sock_t *s, uv_loop_t *loop, const wc_addr_t *a,
                     wc_sock_cb cb);
/* Closes the handle if open; cb (may be NULL) runs once it is closed, or
 * at once when nothing was open. */
void wc_sock_close(wc_sock_t *s, void (*cb)(wc_sock_t *s));

/* ---- hex.c ---- */

/* p[0..n) as lowercase hex pairs, nothing between them. */
void wc_hex(FILE *f, const uint8_t *p, size_t n);
/* Up to 24 bytes of p as a quoted C string, "..." if there is more. */
void wc_excerpt(char *out, size_t size, const uint8_t *p, size_t len);

/* ---- input.c ---- */

typedef enum {
  WC_IN_LINES, /* each line of stdin (without its '\n') is a frame */
  WC_IN_BYTES, /* stdin's bytes as they come: for stream codecs */
  WC_IN_FILES  /* each file is a frame */
} wc_in_mode_t;

typedef struct wc_input wc_input_t;
/* One frame; `where` names it ("line 3", "file x.bin").  Non-zero stops
 * the input. */
typedef int (*wc_input_frame_cb)(void *arg, const uint8_t *p, size_t len,
                                 const char *where);
/* The input ended: 0 at its end, or -1 after an error (said). */
typedef void (*wc_input_end_cb)(void *arg, int status);

struct wc_input {
  wc_in_mode_t mode;
  const char **files;
  size_t nfiles;
  uv_loop_t *loop;
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_pipe_t pipe;
    uv_tty_t tty;
  } h;
  int open;
  weft__buf_t line; /* the line not yet ended */
  unsigned long lineno;
  char rbuf[65536];
  wc_input_frame_cb on_frame;
  wc_input_end_cb on_end;
  void *arg;
  int stopped;
};

/* Starts delivering frames; files and a stdin that is a regular file are
 * read at once, a pipe or a terminal as data comes. */
void wc_input_start(wc_input_t *in, uv_loop_t *loop, wc_input_frame_cb fcb,
                    wc_input_end_cb ecb, void *arg);
/* Stops reading and closes what the input opened. */
void wc_input_stop(wc_input_t *in);

/* ---- hist.c ---- */

/* Latencies in nanoseconds, log-linear buckets: 1/32 of a power of two
 * apart, so a percentile is exact to about 3%. */
#define WC_HIST_BUCKETS (64 + 58 * 32)
typedef struct {
  uint64_t count[WC_HIST_BUCKETS];
  uint64_t n, max;
} wc_hist_t;

void wc_hist_add(wc_hist_t *h, uint64_t ns);
void wc_hist_merge(wc_hist_t *into, const wc_hist_t *h);
/* The value below which fraction q of the samples lie (q in [0, 1]). */
uint64_t wc_hist_quantile(const wc_hist_t *h, double q);

/* ---- send.c, bench.c ---- */

int wc_send_main(int argc, char **argv);
int wc_bench_main(int argc, char **argv);

#endif /* WEFT_TOOLS_CLIENT_H */
