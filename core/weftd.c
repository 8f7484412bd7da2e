/*
 * weftd: the daemon.  A thin user of libweft: parse arguments, load the
 * configuration (or the embedded default), start the engine, and turn
 * signals into stop requests.
 */
#include <getopt.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <weft/weft.h>


static void weftd_usage(FILE *f) {
  fprintf(f,
          "usage: weftd [-c FILE] [--check] [--list-plugins] [-v|-q] [--syslog]\n"
          "\n"
          "  -c, --config FILE   read FILE (libconfig syntax, see weft.conf(5));\n"
          "                      without it, run the embedded default: line echo\n"
          "                      on 127.0.0.1:7000, length echo on 127.0.0.1:7001\n"
          "      --check         validate the configuration and every plugin it\n"
          "                      names, list every problem as FILE:LINE, bind\n"
          "                      nothing; exit 0 if there is none\n"
          "      --list-plugins  list the plugins that can be loaded: name,\n"
          "                      kind, ABI, version and file\n"
          "  -v, --verbose       more logging (twice: debug)\n"
          "  -q, --quiet         warnings and errors only\n"
          "      --syslog        log to syslog (daemon facility), not stderr\n"
          "  -V, --version       print the version and plugin ABI\n"
          "  -h, --help          this text\n"
          "\n"
          "Signals: SIGTERM/SIGINT stop gracefully, a second one forces;\n"
          "SIGHUP reloads the configuration; SIGUSR1 logs the counters.\n");
}

/* Blocks the daemon's signals so every thread inherits the mask; the main
 * thread collects them with sigwait. */
static void weftd_block_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, set, NULL);
}

typedef struct weftd_waiter {
  weft_engine_t *engine;
  int done; /* set by the waiter thread, read by main: atomics */
} weftd_waiter_t;

static int weftd_log_stats(void *arg, const char *line) {
  (void)arg;
  weft_log(WEFT_LOG_INFO, "stats: %s", line);
  return 0;
}

static void *weftd_wait_thread(void *arg) {
  weftd_waiter_t *wt = arg;

  weft_engine_wait(wt->engine);
  __atomic_store_n(&wt->done, 1, __ATOMIC_RELEASE);
  kill(getpid(), SIGTERM); /* wake the main thread's sigwait */
  return NULL;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'c'},
      {"check", no_argument, NULL, 'k'},
      {"list-plugins", no_argument, NULL, 'l'},
      {"verbose", no_argument, NULL, 'v'},
      {"quiet", no_argument, NULL, 'q'},
      {"syslog", no_argument, NULL, 's'},
      {"version", no_argument, NULL, 'V'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config = NULL;
  int check = 0, list = 0, verbosity = 0, ch, r, n, signals = 0, sig;
  int use_syslog = 0;
  weft_engine_t *engine;
  weftd_waiter_t waiter;
  pthread_t waiter_thread;
  struct timespec tick = {1, 0};
  sigset_t set;

  while ((ch = getopt_long(argc, argv, "c:vqVh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c':
      config = optarg;
      break;
    case 'k':
      check = 1;
      break;
    case 'l':
      list = 1;
      break;
    case 'v':
      verbosity++;
      break;
    case 'q':
      verbosity = -1;
      break;
    case 's':
      use_syslog = 1;
      break;
    case 'V':
      printf("weftd %s (plugin ABI %d.%d)\n", WEFT_VERSION_STRING,
             WEFT_ABI_MAJOR, WEFT_ABI_MINOR);
      return 0;
    case 'h':
      weftd_usage(stdout);
      return 0;
    default:
      weftd_usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "weftd: unexpected argument \"%s\"\n", argv[optind]);
    weftd_usage(stderr);
    return 2;
  }
  /* --check and --list-plugins answer on the terminal, whatever the flag. */
  if (use_syslog && !check && !list)
    weft_log_to_syslog("weftd");
  /* A peer that vanishes must not kill the daemon with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);

  if (weft_engine_new(&engine) != 0) {
    fprintf(stderr, "weftd: out of memory\n");
    return 1;
  }
  r = config ? weft_engine_load_file(engine, config)
             : weft_engine_load_default(engine);
  /* The command line wins over the file's log_level.  With --check, one
   * -v already shows the details plugins give (frame layouts). */
  if (verbosity > 0)
    weft_log_set_level(verbosity > 1 || check ? WEFT_LOG_DEBUG : WEFT_LOG_INFO);
  else if (verbosity < 0)
    weft_log_set_level(WEFT_LOG_WARN);
  if (list) {
    r = weft_engine_list_plugins(engine, stdout);
    weft_engine_free(engine);
    return r ? 1 : 0;
  }
  /* A refused file is still checked, plugins and all: every problem is
   * listed in one run, with --check as at start. */
  if (check || r != 0) {
    n = weft_engine_check(engine);
    if (check && n == 0)
      printf("%s: configuration OK\n", config ? config : "<default>");
    else if (check)
      fprintf(stderr, "%s: %d problem%s found\n", config ? config : "<default>",
              n, n == 1 ? "" : "s");
    else
      weft_log(WEFT_LOG_ERROR,
               "%s: %d problem%s found: configuration refused, nothing "
               "started",
               config ? config : "<default>", n, n == 1 ? "" : "s");
    weft_engine_free(engine);
    return n > 0 || r != 0 ? 1 : 0;
  }

  weftd_block_signals(&set);
  if (weft_engine_start(engine) != 0) {
    weft_log(WEFT_LOG_ERROR, "weftd: start-up failed, nothing left bound");
    weft_engine_free(engine);
    return 1;
  }
  weft_log(WEFT_LOG_INFO, "weftd %s started (pid %d)", WEFT_VERSION_STRING,
           (int)getpid());
  waiter.engine = engine;
  waiter.done = 0;
  if (pthread_create(&waiter_thread, NULL, weftd_wait_thread, &waiter) != 0) {
    weft_engine_stop(engine, 1);
    weft_engine_free(engine);
    return 1;
  }
  while (!__atomic_load_n(&waiter.done, __ATOMIC_ACQUIRE)) {
    /* Wake every second to release what a reload retired. */
    sig = sigtimedwait(&set, NULL, &tick);
    if (__atomic_load_n(&waiter.done, __ATOMIC_ACQUIRE))
      break;
    if (sig < 0) {
      weft_engine_maintain(engine);
      continue;
    }
    if (sig == SIGUSR1) {
      weft_engine_stats(engine, weftd_log_stats, NULL);
      continue;
    }
    if (sig == SIGHUP) {
      weft_log(WEFT_LOG_INFO, "SIGHUP: reloading %s",
               config ? config : "the embedded default");
      weft_engine_reload(engine, NULL);
      continue;
    }
    signals++;
    weft_log(WEFT_LOG_INFO, "%s: %s", sig == SIGINT ? "SIGINT" : "SIGTERM",
             signals == 1 ? "stopping gracefully (again to force)"
                          : "forcing stop");
    weft_engine_stop(engine, signals > 1);
  }
  pthread_join(waiter_thread, NULL);
  weft_engine_free(engine);
  weft_log(WEFT_LOG_INFO, "weftd stopped");
  return 0;
}
