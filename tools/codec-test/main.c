/* weft-codec-test: the command line, loading and creating the plugin. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ltdl.h>

#include "ct.h"
#include "opts_internal.h"

/* The built-in codecs, as a table libtool made (tools/weft/local.mk). */
extern const lt_dlsymlist lt_libweftbuiltins_LTX_preloaded_symbols[];

static const struct {
  const char *name;
  unsigned bit;
} ct_checks[] = {
    {"roundtrip", CT_SKIP_ROUNDTRIP}, {"splits", CT_SKIP_SPLITS},
    {"truncation", CT_SKIP_TRUNC},    {"max", CT_SKIP_MAX},
    {"limit", CT_SKIP_LIMIT},         {"garbage", CT_SKIP_GARBAGE},
};

static weft__plugin_t *ct_plugin;

static int ct_hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* "00 0a ff 'text'": hex pairs, spaces anywhere, quoted text literally. */
static uint8_t *ct_parse_hex(const char *s, size_t *len) {
  uint8_t *out = ct_alloc(strlen(s) + 1);
  size_t n = 0;
  int hi, lo;

  while (*s != '\0') {
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == ':') {
      s++;
    } else if (*s == '\'') {
      for (s++; *s != '\0' && *s != '\''; s++)
        out[n++] = (uint8_t)*s;
      if (*s == '\'')
        s++;
    } else {
      hi = ct_hex_digit(s[0]);
      lo = hi < 0 ? -1 : ct_hex_digit(s[1]);
      if (lo < 0) {
        fprintf(stderr, "weft-codec-test: --decode: bad hex at \"%.8s\"\n", s);
        exit(2);
      }
      out[n++] = (uint8_t)(hi << 4 | lo);
      s += 2;
    }
  }
  *len = n;
  return out;
}

static int ct_decode_one(void) {
  ct_split_t s = {CT_WHOLE, 0, 0};
  ct_result_t r;
  uint8_t *in;
  size_t len, i;
  char out[256];

  ct_now.check = "decode";
  in = ct_parse_hex(ct_cfg.decode, &len);
  if (ct_cfg.split == NULL || strcmp(ct_cfg.split, "whole") == 0)
    s.kind = CT_WHOLE;
  else if (strcmp(ct_cfg.split, "bytes") == 0)
    s.kind = CT_BYTES;
  else if (strncmp(ct_cfg.split, "random:", 7) == 0) {
    s.kind = CT_RANDOM;
    s.arg = strtoull(ct_cfg.split + 7, NULL, 0);
  } else {
    s.kind = CT_AT;
    s.arg = strtoull(ct_cfg.split, NULL, 0);
  }
  ct_run(in, len, s, 1, &r);
  printf("fed as: %s\n", ct_now.split);
  for (i = 0; i < r.n; i++) {
    snprintf(out, sizeof(out), "frame %zu", i);
    ct_hex(stdout, out, r.data + r.off[i], r.len[i]);
  }
  ct_outcome(out, sizeof(out), &r);
  printf("%s; %lu decode calls\n", out, ct_now.calls);
  ct_result_free(&r);
  free(in);
  return ct_failures > 0 ? 1 : 0;
}

/* NAME=VALUE, typed as in weft.conf (core/opts_arg.c). */
static int ct_add_option(weft_opts_t *o, const char *arg, int line) {
  int r = weft__opts_add_arg(o, arg, line);

  if (r == WEFT_EINVAL)
    fprintf(stderr, "weft-codec-test: \"%s\" is not NAME=VALUE\n", arg);
  return r;
}

int ct_create(const char *extra, const char *value, int loud, void **state) {
  weft_opts_t *o;
  char arg[256];
  size_t i, n;
  int r = 0, line;

  o = weft__opts_new("codec", ct_codec.desc->name, "command line");
  if (o == NULL)
    return WEFT_ENOMEM;
  for (line = 0; line < ct_cfg.argc && r == 0; line++) {
    if (extra != NULL &&
        strncmp(ct_cfg.argv[line], extra, strlen(extra)) == 0 &&
        ct_cfg.argv[line][strlen(extra)] == '=')
      continue; /* replaced */
    r = ct_add_option(o, ct_cfg.argv[line], line + 1);
  }
  if (r == 0 && extra != NULL) {
    snprintf(arg, sizeof(arg), "%s=%s", extra, value);
    r = ct_add_option(o, arg, ct_cfg.argc + 1);
  }
  *state = NULL;
  if (r == 0) {
    r = ct_codec.vt->create != NULL ? ct_codec.vt->create(o, state) : 0;
    if (r == 0) {
      weft__opts_check_unused(o);
      if (weft__opts_nerrors(o) > 0) {
        if (ct_codec.vt->destroy != NULL)
          ct_codec.vt->destroy(*state);
        *state = NULL;
        r = WEFT_EINVAL;
      }
    }
  }
  n = weft__opts_nerrors(o);
  if (loud) {
    for (i = 0; i < n; i++)
      fprintf(stderr, "weft-codec-test: %s\n", weft__opts_error(o, i));
    if (r != 0 && n == 0)
      fprintf(stderr, "weft-codec-test: codec \"%s\": create failed: %s\n",
              ct_codec.desc->name, weft_strerror(r));
  }
  weft__opts_free(o);
  return r;
}

static void ct_usage(FILE *f) {
  fprintf(f,
          "usage: weft-codec-test [options] PLUGIN [NAME=VALUE ...]\n"
          "Checks a weft codec plugin (a file path, or a name looked up in\n"
          "%s) against the decoder contract, with the options\n"
          "given (integers, true/false, or strings: NAME='\"8\"' forces one).\n"
          "  -s, --seed N       random seed (default 1)\n"
          "  -n, --frames N     frames per round trip (default 200)\n"
          "  -l, --limit NAME   the option that bounds a frame's size\n"
          "                     (tried by default: max_length, max_frame, "
          "max_size)\n"
          "      --stream       the codec does not keep frame boundaries "
          "(raw):\n"
          "                     compare bytes, not frames\n"
          "      --skip CHECK   skip roundtrip, splits, truncation, max, "
          "limit or\n"
          "                     garbage (repeatable)\n"
          "      --decode HEX   only decode this input (\"00 0a 'text'\"), "
          "guarded,\n"
          "                     and print the frames and the error\n"
          "      --split HOW    for --decode: whole, bytes, N (two reads cut "
          "at N)\n"
          "                     or random:SEED\n"
          "  -h, --help\n"
          "Exit status: 0 all checks passed, 1 a check failed, 2 the plugin\n"
          "could not be tested.\n",
          WEFT_PLUGINDIR);
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"seed", required_argument, NULL, 's'},
      {"frames", required_argument, NULL, 'n'},
      {"limit", required_argument, NULL, 'l'},
      {"stream", no_argument, NULL, 'S'},
      {"skip", required_argument, NULL, 'k'},
      {"decode", required_argument, NULL, 'x'},
      {"split", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  weft__plugins_t reg;
  char err[2048];
  size_t i;
  int ch, known;

  /* Before the loader starts libltdl, so that "line" is found built in. */
  lt_dlpreload_default(lt_libweftbuiltins_LTX_preloaded_symbols);
  ct_cfg.seed = 1;
  ct_cfg.frames = 200;
  while ((ch = getopt_long(argc, argv, "s:n:l:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 's':
      ct_cfg.seed = strtoull(optarg, NULL, 0);
      break;
    case 'n':
      ct_cfg.frames = (size_t)strtoul(optarg, NULL, 0);
      if (ct_cfg.frames == 0)
        ct_cfg.frames = 1;
      break;
    case 'l':
      ct_cfg.limit = optarg;
      break;
    case 'S':
      ct_cfg.stream = 1;
      break;
    case 'k':
      for (i = 0, known = 0; i < sizeof(ct_checks) / sizeof(ct_checks[0]); i++)
        if (strcmp(optarg, ct_checks[i].name) == 0) {
          ct_cfg.skip |= ct_checks[i].bit;
          known = 1;
        }
      if (!known) {
        fprintf(stderr, "weft-codec-test: unknown check \"%s\"\n", optarg);
        return 2;
      }
      break;
    case 'x':
      ct_cfg.decode = optarg;
      break;
    case 'p':
      ct_cfg.split = optarg;
      break;
    case 'h':
      ct_usage(stdout);
      return 0;
    default:
      ct_usage(stderr);
      return 2;
    }
  }
  if (optind >= argc) {
    ct_usage(stderr);
    return 2;
  }
  ct_cfg.plugin = argv[optind];
  ct_cfg.argc = argc - optind - 1;
  ct_cfg.argv = argv + optind + 1;
  setvbuf(stdout, NULL, _IOLBF, 0);

  if (weft__plugins_init(&reg, NULL, 0, WEFT_PLUGINDIR) != 0) {
    fprintf(stderr, "weft-codec-test: cannot start the plugin loader\n");
    return 2;
  }
  ct_plugin =
      weft__plugin_load(&reg, strchr(ct_cfg.plugin, '/') ? NULL : ct_cfg.plugin,
                        strchr(ct_cfg.plugin, '/') ? ct_cfg.plugin : NULL,
                        WEFT_PLUGIN_CODEC, err, sizeof(err));
  if (ct_plugin == NULL) {
    fprintf(stderr, "weft-codec-test: %s\n", err);
    weft__plugins_destroy(&reg);
    return 2;
  }
  ct_codec.desc = ct_plugin->desc;
  ct_codec.vt = &ct_plugin->codec;
  if (ct_create(NULL, NULL, 1, &ct_codec.state) != 0) {
    weft__plugins_destroy(&reg);
    return 2;
  }
  ct_shim = ct_plugin->codec;
  ct_shim.decode = ct_decode;
  ct_shim.decode_eof = ct_codec.vt->decode_eof != NULL ? ct_decode_eof : NULL;

  ct_guard_init();

  if (ct_cfg.decode != NULL) {
    i = (size_t)ct_decode_one();
    ct_guard_free();
    if (ct_codec.vt->destroy != NULL)
      ct_codec.vt->destroy(ct_codec.state);
    weft__plugin_release(&reg, ct_plugin);
    weft__plugins_destroy(&reg);
    return (int)i;
  }

  printf("weft-codec-test: codec \"%s\" %s from %s", ct_codec.desc->name,
         ct_codec.desc->version ? ct_codec.desc->version : "", ct_plugin->file);
  for (i = 0; i < (size_t)ct_cfg.argc; i++)
    printf("%s%s", i ? " " : ", options: ", ct_cfg.argv[i]);
  printf(", seed %llu\n", (unsigned long long)ct_cfg.seed);

  if (ct_probe() == 0) {
    ct_now.check = "probe";
    ct_ok("the encoder takes frames of up to %zu%s bytes (%zu on the wire)",
          ct_max_len, ct_unbounded ? "+" : "", ct_max_wire);
    if (!(ct_cfg.skip & CT_SKIP_ROUNDTRIP))
      ct_check_round_trip(ct_cfg.seed);
    if (!(ct_cfg.skip & CT_SKIP_SPLITS))
      ct_check_splits(ct_cfg.seed + 1);
    if (!(ct_cfg.skip & CT_SKIP_TRUNC) && !ct_cfg.stream)
      ct_check_truncation(ct_cfg.seed + 2);
    if (!(ct_cfg.skip & CT_SKIP_MAX))
      ct_check_max(ct_cfg.seed + 3);
    if (!(ct_cfg.skip & CT_SKIP_LIMIT) && !ct_cfg.stream)
      ct_check_limit(ct_cfg.seed + 4);
    if (!(ct_cfg.skip & CT_SKIP_GARBAGE))
      ct_check_garbage(ct_cfg.seed + 5);
  }

  ct_now.check = "guard";
  if (ct_failures == 0)
    ct_ok("%lu decode calls, each on a guarded copy of its input: none read "
          "outside it or kept a pointer into it",
          ct_now.calls);
  ct_guard_free();
  if (ct_codec.vt->destroy != NULL)
    ct_codec.vt->destroy(ct_codec.state);
  weft__plugin_release(&reg, ct_plugin);
  weft__plugins_destroy(&reg);
  if (ct_failures > 0) {
    printf("weft-codec-test: %u check(s) FAILED\n", ct_failures);
    return 1;
  }
  printf("weft-codec-test: all checks passed\n");
  return 0;
}
