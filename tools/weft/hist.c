/*
 * weft: latency histograms.  Values below 64 ns have a bucket each; above,
 * each power of two is cut into 32 buckets, so a bucket is at most 1/32 of
 * its values wide, whatever the scale, in a fixed 15 KiB: no sample is
 * kept, and threads' histograms merge by adding.
 */
#include <string.h>

#include "client.h"

static unsigned wc_hist_index(uint64_t v) {
  unsigned e;

  if (v < 64)
    return (unsigned)v;
  e = 63u - (unsigned)__builtin_clzll(v); /* 6..63 */
  return 64 + (e - 6) * 32 + (unsigned)((v >> (e - 5)) & 31);
}

/* The middle of bucket i: what a sample in it is reported as. */
static uint64_t wc_hist_value(unsigned i) {
  unsigned e, sub;
  uint64_t lo, width;

  if (i < 64)
    return i;
  e = (i - 64) / 32 + 6;
  sub = (i - 64) % 32;
  width = (uint64_t)1 << (e - 5);
  lo = ((uint64_t)1 << e) + sub * width;
  return lo + width / 2;
}

void wc_hist_add(wc_hist_t *h, uint64_t ns) {
  h->count[wc_hist_index(ns)]++;
  h->n++;
  if (ns > h->max)
    h->max = ns;
}

void wc_hist_merge(wc_hist_t *into, const wc_hist_t *h) {
  unsigned i;

  for (i = 0; i < WC_HIST_BUCKETS; i++)
    into->count[i] += h->count[i];
  into->n += h->n;
  if (h->max > into->max)
    into->max = h->max;
}

uint64_t wc_hist_quantile(const wc_hist_t *h, double q) {
  uint64_t rank, seen = 0, v;
  unsigned i;

  if (h->n == 0)
    return 0;
  /* The smallest value with at least q of the samples at or below it. */
  rank = (uint64_t)(q * (double)h->n + 0.999999);
  if (rank < 1)
    rank = 1;
  if (rank > h->n)
    rank = h->n;
  for (i = 0; i < WC_HIST_BUCKETS; i++) {
    seen += h->count[i];
    if (seen >= rank) {
      v = wc_hist_value(i);
      return v < h->max ? v : h->max;
    }
  }
  return h->max;
}
