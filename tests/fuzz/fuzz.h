/*
 * Fuzz targets for the codecs' decoders.  Each target (fuzz_NAME.c) names
 * its codec and a few option sets; the shared driver (driver.c) reads the
 * first input byte as the option set, the second as how to cut the rest
 * into reads, and checks what every decoder must do with any bytes:
 *
 *   - the same frames and the same error at the same offset, whether the
 *     rest is fed in one read or cut into many (and with the framer
 *     stopped after each frame);
 *   - the framer never holds more than the option set's bound: a peer
 *     cannot grow a connection's memory past its largest frame;
 *   - a decoded frame that the encoder takes decodes back to itself.
 *
 * A broken rule aborts with a message, which libFuzzer reports with the
 * input.  Built with libFuzzer under --enable-fuzzing (fuzz_NAME), and
 * always with replay.c (replay_NAME), which feeds the seed corpus in
 * tests/fuzz/corpus/NAME to the same function for make check.
 */
#ifndef WEFT_TESTS_FUZZ_H
#define WEFT_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <weft/weft.h>

typedef struct {
  const char *name; /* NULL ends a list */
  char type;        /* 'i' integer, 's' string, 'b' boolean */
  int64_t i;
  const char *s;
} fz_opt_t;

#define FZ_INT(n, v) {(n), 'i', (v), NULL}
#define FZ_STR(n, v) {(n), 's', 0, (v)}
#define FZ_BOOL(n, v) {(n), 'b', (v), NULL}
#define FZ_END {NULL, 0, 0, NULL}

typedef struct {
  fz_opt_t opts[8];
  size_t bound;  /* most bytes the framer may hold between reads */
  int stream;    /* frames are reads (raw): compare the bytes only */
  int reencode;  /* decoded frames go through encode and decode again */
} fz_variant_t;

typedef struct {
  const weft_plugin_t *plugin;
  const fz_variant_t *variants;
  size_t nvariants;
} fz_target_t;

/* Defined by each fuzz_NAME.c. */
extern const fz_target_t fz_target;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* WEFT_TESTS_FUZZ_H */
