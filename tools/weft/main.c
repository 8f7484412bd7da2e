/* weft: the subcommands, --help and --version. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ltdl.h>

#include "client.h"

const char *wc_prog = "weft";

/* The built-in codecs' table, made by libtool (tools/weft/local.mk). */
extern const lt_dlsymlist lt_libweftbuiltins_LTX_preloaded_symbols[];

void wc_err(const char *fmt, ...) {
  va_list ap;

  fprintf(stderr, "%s: ", wc_prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void wc_usage(FILE *f) {
  fprintf(f,
          "usage: weft send [options] HOST:PORT | unix:PATH\n"
          "       weft bench [options] HOST:PORT | unix:PATH\n"
          "       weft --version | --help\n"
          "\n"
          "send   sends each line of stdin (or each --file) as a frame and\n"
          "       prints each reply frame, one per line\n"
          "bench  keeps frames in flight on many connections against an echo\n"
          "       service, checks every reply, reports frames/s and latency\n"
          "\n"
          "Both speak through a codec plugin, as weftd does: --codec NAME\n"
          "(default line) or a path, --codec-opt NAME=VALUE, --plugin-path "
          "DIR.\n"
          "`weft send --help` and `weft bench --help` list their options; see "
          "weft(1).\n");
}

int main(int argc, char **argv) {
  /* A peer that closes while we write must be an error, not a death. */
  signal(SIGPIPE, SIG_IGN);
  /* Before the loader starts libltdl, so that "line" is found built in. */
  lt_dlpreload_default(lt_libweftbuiltins_LTX_preloaded_symbols);
  if (argc >= 2 && strcmp(argv[1], "send") == 0) {
    wc_prog = "weft send";
    return wc_send_main(argc - 1, argv + 1);
  }
  if (argc >= 2 && strcmp(argv[1], "bench") == 0) {
    wc_prog = "weft bench";
    return wc_bench_main(argc - 1, argv + 1);
  }
  if (argc >= 2 &&
      (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
    printf("weft %s (plugin ABI %d.%d)\n", WEFT_VERSION_STRING, WEFT_ABI_MAJOR,
           WEFT_ABI_MINOR);
    return WC_OK;
  }
  if (argc >= 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    wc_usage(stdout);
    return WC_OK;
  }
  if (argc >= 2)
    wc_err("unknown command \"%s\"", argv[1]);
  wc_usage(stderr);
  return WC_USAGE;
}
