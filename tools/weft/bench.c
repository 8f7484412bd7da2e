/*
 * weft bench: a load generator on weft's codecs, against an echo service.
 * The command line, the threads, the measured interval, and the summary:
 * frames/s, MB/s of payload each way, latency percentiles, CPU time per
 * frame, and one machine-readable line (key=value, or a JSON object with
 * --json) for scripts.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "opts_internal.h"

void wc_bench_error(wc_bthread_t *t, const char *fmt, ...) {
  unsigned n = __atomic_fetch_add(&t->b->shown, 1, __ATOMIC_RELAXED);
  va_list ap;

  if (n >= WC_BENCH_SHOWN) {
    if (n == WC_BENCH_SHOWN)
      fprintf(stderr, "%s: more errors: counted, not shown\n", wc_prog);
    return;
  }
  flockfile(stderr);
  fprintf(stderr, "%s: ", wc_prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  funlockfile(stderr);
}

void wc_bench_mark(wc_bench_t *b, int which, uint64_t now) {
  wc_bsample_t *m = &b->mark[which];

  if (__atomic_exchange_n(&b->marked[which], 1, __ATOMIC_ACQ_REL))
    return;
  m->ns = now;
  m->srv = b->server_pid > 0 ? wc_cpu_proc(b->server_pid) : -1;
  m->core = b->server_cpu >= 0 ? wc_cpu_core(b->server_cpu) : -1;
  m->cli = wc_cpu_self();
}

/* ---- a thread's loop ---- */

/* The warm-up is over: the measured interval starts. */
static void wc_bthread_warm(uv_timer_t *timer) {
  wc_bthread_t *t = timer->data;

  wc_bench_mark(t->b, WC_MARK_START, uv_hrtime());
}

/* The measured interval is over: no new frames. */
static void wc_bthread_stop(uv_timer_t *timer) {
  wc_bthread_t *t = timer->data;
  size_t i;

  t->stopping = 1;
  wc_bench_mark(t->b, WC_MARK_END, uv_hrtime());
  for (i = 0; i < t->nconns; i++)
    wc_bconn_drain(&t->conns[i]);
}

/* A timer's milliseconds from now (ns) to `at`, rounded so that it fires
 * at `at` or after: the loop's clock counts whole milliseconds. */
static uint64_t wc_ms_until(uint64_t at, uint64_t now) {
  return at > now ? (at - now + 999999) / 1000000 + 1 : 0;
}

/* Frames connection k (from 0) sends: a counted run's share, the
 * remainder to the first ones. */
static uint64_t wc_bench_quota(const wc_bench_t *b, uint64_t k) {
  if (b->timed)
    return UINT64_MAX;
  return b->total / b->conns + (k < b->total % b->conns);
}

static void wc_bthread_tick(uv_timer_t *timer) {
  wc_bthread_t *t = timer->data;
  uint64_t now = uv_hrtime();
  size_t i;

  for (i = 0; i < t->nconns; i++)
    wc_bconn_check(&t->conns[i], now);
}

static void wc_bthread_run(void *arg) {
  wc_bthread_t *t = arg;
  const wc_bench_t *b = t->b;
  uint64_t tick = b->args.timeout_ms / 4;
  size_t i;

  tick = tick < 1 ? 1 : tick > 100 ? 100 : tick;
  /* The loop's clock stopped when it was made: set it before the timers. */
  uv_update_time(&t->loop);
  t->start_ns = uv_hrtime();
  uv_timer_init(&t->loop, &t->warm_timer);
  uv_timer_init(&t->loop, &t->stop_timer);
  uv_timer_init(&t->loop, &t->tick);
  t->warm_timer.data = t;
  t->stop_timer.data = t;
  t->tick.data = t;
  /* A timed run's interval is the same for all threads, set by main. */
  if (b->timed && b->warmup_ms > 0)
    uv_timer_start(&t->warm_timer, wc_bthread_warm,
                   wc_ms_until(b->win_start, t->start_ns), 0);
  if (b->timed)
    uv_timer_start(&t->stop_timer, wc_bthread_stop,
                   wc_ms_until(b->win_start + b->win_len, t->start_ns), 0);
  uv_timer_start(&t->tick, wc_bthread_tick, tick, tick);
  /* All counted first: one failing at once must not end the run. */
  t->open = t->nconns;
  for (i = 0; i < t->nconns; i++)
    wc_bconn_start(&t->conns[i], t, t->first + (unsigned)i,
                   wc_bench_quota(b, t->first - 1 + i));
  uv_run(&t->loop, UV_RUN_DEFAULT);
}

/* ---- the command line ---- */

static void wc_bench_usage(FILE *f) {
  fputs("usage: weft bench [options] HOST:PORT | [IPV6]:PORT | unix:PATH\n"
        "Keeps frames in flight against an echo service, checks every "
        "reply,\n"
        "and reports frames/s, MB/s, latency percentiles and CPU time.\n"
        "  --codec NAME|PATH    the codec plugin (default line)\n"
        "  --codec-opt N=V      a codec option, as in weft.conf (repeatable)\n"
        "  --plugin-path DIR    look for NAME.so in DIR first (repeatable)\n"
        "  -c, --connections N  connections (default 4)\n"
        "  -p, --pipeline N     frames in flight per connection (default 8)\n"
        "  -s, --size BYTES     payload bytes per frame (default 64; 64k "
        "works)\n"
        "  -d, --duration T     the measured interval (default 5s; 500ms, "
        "2.5)\n"
        "  -w, --warmup T       frames flow for T before it (default 0)\n"
        "  -n, --frames N       exactly N frames in all, measured from the "
        "first\n"
        "                       send to the last reply (not with -d or -w)\n"
        "  -t, --threads N      event loops, one thread each (default 1)\n"
        "      --stream         the codec keeps no frame boundaries: check "
        "replies\n"
        "                       as bytes (the default for raw)\n"
        "      --timeout T      no progress for T on a busy connection is an\n"
        "                       error (default 5s)\n"
        "      --server-pid PID the CPU time of process PID, all threads, "
        "per frame\n"
        "                       (srv_cpu_ns) and per second (srv_util)\n"
        "      --server-cpu N   the busy time of CPU N per frame (core_ns)\n"
        "      --wait           only connect, retrying for up to --timeout: "
        "exit 0\n"
        "                       once a connection is made, 1 if none is\n"
        "  -q, --quiet          print only the key=value line\n"
        "      --json           print the result as one JSON object\n"
        "  -v, --verbose        say which codec file\n"
        "  -h, --help\n"
        "Exit status: 0 frames went and no error, 1 an error, no frame, or "
        "a frame\n"
        "of -n unanswered, 2 a usage, codec or option error.\n",
        f);
}

enum {
  WC_OPT_JSON = WC_OPT_NEXT,
  WC_OPT_SERVER_PID,
  WC_OPT_SERVER_CPU,
  WC_OPT_WAIT
};

static int wc_bench_args(wc_bench_t *b, int argc, char **argv) {
  static const struct option longopts[] = {
      WC_COMMON_LONGOPTS,
      {"connections", required_argument, NULL, 'c'},
      {"pipeline", required_argument, NULL, 'p'},
      {"size", required_argument, NULL, 's'},
      {"duration", required_argument, NULL, 'd'},
      {"warmup", required_argument, NULL, 'w'},
      {"frames", required_argument, NULL, 'n'},
      {"threads", required_argument, NULL, 't'},
      {"server-pid", required_argument, NULL, WC_OPT_SERVER_PID},
      {"server-cpu", required_argument, NULL, WC_OPT_SERVER_CPU},
      {"wait", no_argument, NULL, WC_OPT_WAIT},
      {"quiet", no_argument, NULL, 'q'},
      {"json", no_argument, NULL, WC_OPT_JSON},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  uint64_t v;
  int ch, r, dur_given = 0, warm_given = 0;

  b->conns = 4;
  b->pipeline = 8;
  b->size = 64;
  b->duration_ms = 5000;
  b->threads = 1;
  b->server_cpu = -1;
  while ((ch = getopt_long(argc, argv, "c:p:s:d:w:n:t:qvh", longopts, NULL)) !=
         -1) {
    r = wc_common_opt(&b->args, ch, optarg);
    if (r < 0)
      return WC_USAGE;
    if (r > 0)
      continue;
    switch (ch) {
    case 'c':
      r = wc_parse_count("-c", optarg, 1, 100000, &b->conns);
      break;
    case 'p':
      r = wc_parse_count("-p", optarg, 1, 1000000, &b->pipeline);
      break;
    case 's':
      if (weft__parse_size(optarg, &b->size) != 0 || b->size == 0 ||
          b->size > ((uint64_t)1 << 30)) {
        wc_err("-s \"%s\": not a frame size from 1 to 1G (like 64, 4k)",
               optarg);
        r = -1;
      }
      break;
    case 'd':
      if (wc_parse_duration(optarg, &b->duration_ms) != 0 ||
          b->duration_ms == 0) {
        wc_err("-d \"%s\": not a positive duration (like 500ms, 10s, 2.5)",
               optarg);
        r = -1;
      }
      dur_given = 1;
      break;
    case 'w':
      if (wc_parse_duration(optarg, &b->warmup_ms) != 0) {
        wc_err("-w \"%s\": not a duration (like 0, 500ms, 1s)", optarg);
        r = -1;
      }
      warm_given = 1;
      break;
    case 'n':
      r = wc_parse_count("-n", optarg, 1, (uint64_t)1 << 50, &b->total);
      break;
    case 't':
      r = wc_parse_count("-t", optarg, 1, 256, &b->threads);
      break;
    case WC_OPT_SERVER_PID:
      r = wc_parse_count("--server-pid", optarg, 1, INT32_MAX, &v);
      b->server_pid = (int64_t)v;
      break;
    case WC_OPT_SERVER_CPU:
      r = wc_parse_count("--server-cpu", optarg, 0, 1 << 20, &v);
      b->server_cpu = (int64_t)v;
      break;
    case WC_OPT_WAIT:
      b->wait = 1;
      break;
    case 'q':
      b->quiet = 1;
      break;
    case WC_OPT_JSON:
      b->json = 1;
      break;
    case 'h':
      wc_bench_usage(stdout);
      return -1;
    default:
      wc_bench_usage(stderr);
      return WC_USAGE;
    }
    if (r != 0)
      return WC_USAGE;
  }
  if (optind != argc - 1) {
    wc_err(optind >= argc ? "where to? give HOST:PORT or unix:PATH"
                          : "one address only, not \"%s\"",
           argv[argc - 1]);
    wc_bench_usage(stderr);
    return WC_USAGE;
  }
  if (b->total > 0 && (dur_given || warm_given)) {
    wc_err("-n and %s: a run is counted (-n) or timed (-d, after the "
           "warm-up of -w), not both",
           dur_given ? "-d" : "-w");
    return WC_USAGE;
  }
  b->timed = b->total == 0;
  if (b->size * b->pipeline > ((uint64_t)1 << 30)) {
    wc_err("-s %llu x -p %llu: a connection would have more than 1 GiB in "
           "flight",
           (unsigned long long)b->size, (unsigned long long)b->pipeline);
    return WC_USAGE;
  }
  if (b->threads > b->conns)
    b->threads = b->conns; /* a thread with no connection does nothing */
  return 0;
}

/* Printable bytes from a fixed seed: any line or text codec takes them. */
static int wc_bench_pattern(wc_bench_t *b) {
  static const char alnum[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  uint64_t x = 0x9e3779b97f4a7c15u, z;
  size_t i, n = (size_t)b->size + WC_BENCH_OFFSETS;

  b->pattern = malloc(n);
  if (b->pattern == NULL) {
    wc_err("out of memory for %llu-byte frames", (unsigned long long)b->size);
    return -1;
  }
  for (i = 0; i < n; i++) {
    z = (x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    b->pattern[i] = (uint8_t)alnum[(z ^ (z >> 31)) % (sizeof(alnum) - 1)];
  }
  return 0;
}

/* The codec must take frames of this size before anything is dialed. */
static int wc_bench_probe(wc_bench_t *b, void *state) {
  weft__buf_t out = {NULL, 0, 0};
  wc_cconn_t cc;
  int r;

  r = wc_cconn_init(&cc, &b->codec, state);
  if (r != 0) {
    wc_err("codec \"%s\": conn_init failed: %s", b->codec.name,
           weft_strerror(r));
    wc_cconn_free(&cc);
    return WC_FAIL;
  }
  r = wc_cconn_encode(&cc, wc_bench_frame(b, 1, 0), b->size, &out);
  weft__buf_free(&out);
  wc_cconn_free(&cc);
  if (r != 0) {
    wc_err("the codec \"%s\" refuses %llu-byte frames (%s): choose -s, or "
           "the codec's options, to match",
           b->codec.name, (unsigned long long)b->size, weft_strerror(r));
    return WC_USAGE;
  }
  return 0;
}

/* ---- the summary ---- */

/* What a run measured; -1: not asked for or not known. */
typedef struct {
  uint64_t frames, errors;
  double secs;
  double srv_cpu_ns, srv_util, cli_util, core_ns;
} wc_bresult_t;

static void wc_json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      printf("\\u%04x", (unsigned)*s);
    else
      putchar(*s);
  }
  putchar('"');
}

/* The CPU figures, from the samples at the interval's two ends. */
static void wc_bench_cpu(const wc_bench_t *b, wc_bresult_t *res) {
  const wc_bsample_t *s0 = &b->mark[WC_MARK_START];
  const wc_bsample_t *s1 = &b->mark[WC_MARK_END];
  double hz = (double)sysconf(_SC_CLK_TCK), iv, cpu;

  res->srv_cpu_ns = res->srv_util = res->cli_util = res->core_ns = -1;
  if (!b->marked[WC_MARK_START] || !b->marked[WC_MARK_END] ||
      s1->ns <= s0->ns || !(hz > 0))
    return;
  iv = (double)(s1->ns - s0->ns) / 1e9;
  if (s0->cli >= 0 && s1->cli >= 0)
    res->cli_util = (s1->cli - s0->cli) / iv;
  if (s0->srv >= 0 && s1->srv >= 0) {
    cpu = (double)(s1->srv - s0->srv) / hz;
    res->srv_util = cpu / iv;
    if (res->frames > 0)
      res->srv_cpu_ns = cpu * 1e9 / (double)res->frames;
  }
  if (s0->core >= 0 && s1->core >= 0 && res->frames > 0)
    res->core_ns =
        (double)(s1->core - s0->core) / hz * 1e9 / (double)res->frames;
}

static void wc_bench_report(const wc_bench_t *b, const wc_bresult_t *res,
                            const wc_hist_t *h) {
  double fps = res->secs > 0 ? (double)res->frames / res->secs : 0;
  double mbps = fps * (double)b->size / 1e6;
  double p50 = (double)wc_hist_quantile(h, 0.5) / 1e3;
  double p99 = (double)wc_hist_quantile(h, 0.99) / 1e3;
  double p999 = (double)wc_hist_quantile(h, 0.999) / 1e3;
  double max = (double)h->max / 1e3;
  unsigned long long frames = res->frames, errors = res->errors;

  if (b->json) {
    printf("{\"address\":");
    wc_json_str(b->addr.text);
    printf(",\"codec\":");
    wc_json_str(b->codec.name);
    printf(",\"connections\":%llu,\"pipeline\":%llu,\"size\":%llu,"
           "\"threads\":%llu,\"frames\":%llu,\"errors\":%llu,"
           "\"seconds\":%.3f,\"frames_per_s\":%.0f,\"mb_per_s\":%.2f,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
           "\"max_us\":%.1f,\"srv_cpu_ns\":%.1f,\"srv_util\":%.3f,"
           "\"cli_util\":%.3f,\"core_ns\":%.1f}\n",
           (unsigned long long)b->conns, (unsigned long long)b->pipeline,
           (unsigned long long)b->size, (unsigned long long)b->threads, frames,
           errors, res->secs, fps, mbps, p50, p99, p999, max, res->srv_cpu_ns,
           res->srv_util, res->cli_util, res->core_ns);
    return;
  }
  if (!b->quiet) {
    printf("weft bench: %s, codec %s, %llu connection%s x %llu in flight, "
           "%llu-byte frames, %llu thread%s",
           b->addr.text, b->codec.name, (unsigned long long)b->conns,
           b->conns == 1 ? "" : "s", (unsigned long long)b->pipeline,
           (unsigned long long)b->size, (unsigned long long)b->threads,
           b->threads == 1 ? "" : "s");
    if (!b->timed)
      printf(", %llu frames in all", (unsigned long long)b->total);
    else if (b->warmup_ms > 0)
      printf(", after %.3g s of warm-up", (double)b->warmup_ms / 1e3);
    printf("\n  frames   %llu in %.2f s: %.0f frames/s, %.2f MB/s of payload "
           "each way\n",
           frames, res->secs, fps, mbps);
    printf("  errors   %llu\n", errors);
    printf("  latency  p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f "
           "us\n",
           p50, p99, p999, max);
    printf("  cpu      ");
    if (res->srv_util >= 0)
      printf("server %.0f ns/frame, %.2f of a CPU; ", res->srv_cpu_ns,
             res->srv_util);
    if (res->core_ns >= 0)
      printf("CPU %lld %.0f ns/frame; ", (long long)b->server_cpu,
             res->core_ns);
    printf("weft bench %.2f of a CPU\n", res->cli_util);
  }
  printf("frames=%llu errors=%llu seconds=%.3f frames_per_s=%.0f "
         "mb_per_s=%.2f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
         "srv_cpu_ns=%.1f srv_util=%.3f cli_util=%.3f core_ns=%.1f "
         "connections=%llu pipeline=%llu size=%llu threads=%llu codec=%s\n",
         frames, errors, res->secs, fps, mbps, p50, p99, p999, max,
         res->srv_cpu_ns, res->srv_util, res->cli_util, res->core_ns,
         (unsigned long long)b->conns, (unsigned long long)b->pipeline,
         (unsigned long long)b->size, (unsigned long long)b->threads,
         b->codec.name);
}

/* Runs the threads (the first on this one) and sums what they measured. */
static int wc_bench_run(wc_bench_t *b, wc_bthread_t *th) {
  wc_bresult_t res = {0, 0, 0, -1, -1, -1, -1};
  uint64_t end = 0, stop;
  wc_hist_t *h = calloc(1, sizeof(*h));
  size_t i;
  int r;

  if (h == NULL) {
    wc_err("out of memory");
    return WC_FAIL;
  }
  for (i = 0; i < b->conns; i++)
    b->left += wc_bench_quota(b, i) > 0;
  if (b->timed) {
    /* The interval is fixed now, the same for every thread; connecting is
     * part of the warm-up. */
    b->win_start = uv_hrtime() + b->warmup_ms * 1000000u;
    b->win_len = b->duration_ms * 1000000u;
    if (b->warmup_ms == 0)
      wc_bench_mark(b, WC_MARK_START, b->win_start);
  } else {
    b->win_start = 0; /* every reply counts */
    b->win_len = UINT64_MAX;
  }
  for (i = 1; i < b->threads; i++) {
    r = uv_thread_create(&th[i].tid, wc_bthread_run, &th[i]);
    if (r != 0) {
      wc_err("cannot start thread %zu: %s", i + 1, uv_strerror(r));
      exit(WC_FAIL); /* the others are running: no clean way back */
    }
  }
  wc_bthread_run(&th[0]);
  for (i = 1; i < b->threads; i++)
    uv_thread_join(&th[i].tid);
  for (i = 0; i < b->threads; i++) {
    res.frames += th[i].frames;
    res.errors += th[i].errors;
    end = th[i].end_ns > end ? th[i].end_ns : end;
    wc_hist_merge(h, &th[i].hist);
  }
  /* Connections that failed may have ended the run early. */
  if (b->marked[WC_MARK_START])
    wc_bench_mark(b, WC_MARK_END, end);
  if (b->timed) {
    stop = b->win_start + b->win_len;
    stop = end < stop ? end : stop;
    res.secs = stop > b->win_start ? (double)(stop - b->win_start) / 1e9 : 0;
  } else if (b->marked[WC_MARK_START]) {
    res.secs =
        (double)(b->mark[WC_MARK_END].ns - b->mark[WC_MARK_START].ns) / 1e9;
  }
  wc_bench_cpu(b, &res);
  if (!b->timed && res.frames < b->total)
    wc_err("%llu of the %llu frames of -n answered",
           (unsigned long long)res.frames, (unsigned long long)b->total);
  wc_bench_report(b, &res, h);
  free(h);
  return res.errors == 0 && res.frames > 0 &&
                 (b->timed || res.frames == b->total)
             ? WC_OK
             : WC_FAIL;
}

/* The CPU counters asked for must be readable before the run. */
static int wc_bench_cpu_check(const wc_bench_t *b) {
  if (b->server_pid > 0 && wc_cpu_proc(b->server_pid) < 0)
    return WC_USAGE;
  if (b->server_cpu >= 0 && wc_cpu_core(b->server_cpu) < 0)
    return WC_USAGE;
  return 0;
}

int wc_bench_main(int argc, char **argv) {
  wc_bench_t *b = calloc(1, sizeof(*b));
  wc_bthread_t *th = NULL;
  wc_bconn_t *conns = NULL;
  size_t i, made = 0, first;
  int rc;

  if (b == NULL) {
    wc_err("out of memory");
    return WC_FAIL;
  }
  wc_common_init(&b->args);
  rc = wc_bench_args(b, argc, argv);
  if (rc != 0)
    goto out_args;
  if (b->wait) {
    /* Only dialing: no codec, no frames. */
    rc = wc_addr_resolve(&b->addr, argv[argc - 1]) != 0 ? WC_USAGE
                                                        : wc_bench_wait(b);
    wc_addr_free(&b->addr);
    goto out_args;
  }
  if ((rc = wc_bench_cpu_check(b)) != 0)
    goto out_args;
  if ((rc = wc_codec_load(&b->codec, &b->args)) != 0)
    goto out_args;
  rc = WC_USAGE;
  if (wc_addr_resolve(&b->addr, argv[argc - 1]) != 0 ||
      wc_bench_pattern(b) != 0)
    goto out_codec;
  th = calloc(b->threads, sizeof(*th));
  conns = calloc(b->conns, sizeof(*conns));
  if (th == NULL || conns == NULL) {
    wc_err("out of memory");
    rc = WC_FAIL;
    goto out_codec;
  }
  /* Instances are made here, on the main thread, as weftd makes them. */
  for (made = 0; made < b->threads; made++)
    if ((rc = wc_codec_new(&b->codec, &b->args, &th[made].state)) != 0)
      goto out_threads;
  if ((rc = wc_bench_probe(b, th[0].state)) != 0)
    goto out_threads;
  for (i = 0; i < b->threads; i++) {
    first = (size_t)(b->conns * i / b->threads);
    th[i].b = b;
    th[i].conns = conns + first;
    th[i].first = (unsigned)first + 1;
    th[i].nconns = (size_t)(b->conns * (i + 1) / b->threads) - first;
    uv_loop_init(&th[i].loop);
  }
  rc = wc_bench_run(b, th);
  for (i = 0; i < b->threads; i++)
    uv_loop_close(&th[i].loop);
out_threads:
  for (i = 0; i < made; i++)
    wc_codec_free(&b->codec, th[i].state);
out_codec:
  free(th);
  free(conns);
  free(b->pattern);
  wc_addr_free(&b->addr);
  wc_codec_unload(&b->codec);
out_args:
  wc_common_free(&b->args);
  free(b);
  return rc < 0 ? WC_OK : rc;
}
