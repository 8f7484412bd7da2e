/* weft-codec-test: the command line's settings, reports, random numbers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

ct_config_t ct_cfg;
ct_codec_t ct_codec;
weft_codec_vtable_t ct_shim;
ct_now_t ct_now;
unsigned ct_failures;

/* A short random generator (splitmix64): reproducible from --seed. */
uint64_t ct_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void ct_rand_bytes(uint64_t *s, uint8_t *p, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    p[i] = (uint8_t)ct_rand(s);
}

void *ct_alloc(size_t n) {
  void *p = malloc(n ? n : 1);

  if (p == NULL) {
    fprintf(stderr, "weft-codec-test: out of memory (%zu bytes)\n", n);
    exit(2);
  }
  return p;
}

/* Prints up to 256 bytes of p as hex, with the total. */
void ct_hex(FILE *f, const char *what, const uint8_t *p, size_t n) {
  size_t i, show = n < 256 ? n : 256;

  fprintf(f, "  %s (%zu bytes):", what, n);
  for (i = 0; i < show; i++)
    fprintf(f, "%s%02x", i % 32 == 0 ? "\n    " : i % 4 == 0 ? " " : "", p[i]);
  fprintf(f, "%s\n", n > show ? " ..." : "");
}

static void ct_reproduce(FILE *f) {
  int i;

  fprintf(f, "  reproduce: weft-codec-test --seed %llu%s %s",
          (unsigned long long)ct_cfg.seed, ct_cfg.stream ? " --stream" : "",
          ct_cfg.plugin);
  for (i = 0; i < ct_cfg.argc; i++)
    fprintf(f, " '%s'", ct_cfg.argv[i]);
  fprintf(f, "\n");
}

/* Reports one failure of the running check, with how to reproduce it. */
void ct_fail(const char *fmt, ...) {
  va_list ap;

  ct_failures++;
  printf("FAIL %s: ", ct_now.check);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (ct_now.split[0] != '\0')
    printf("  fed as: %s\n", ct_now.split);
  if (ct_now.stream != NULL)
    ct_hex(stdout, "input", ct_now.stream, ct_now.stream_len);
  ct_reproduce(stdout);
  fflush(stdout);
}

void ct_ok(const char *fmt, ...) {
  va_list ap;

  printf("ok   %s: ", ct_now.check);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

void ct_done(void) {
  ct_now.stream = NULL;
  ct_now.split[0] = '\0';
}
