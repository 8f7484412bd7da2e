/* Growable byte buffers. */
#include <stdlib.h>
#include <string.h>

#include <weft/error.h>

#include "buf.h"

int weft__buf_reserve(weft__buf_t *b, size_t extra) {
  size_t want, cap;
  uint8_t *p;

  if (extra > SIZE_MAX - b->len)
    return WEFT_ENOMEM;
  want = b->len + extra;
  if (want <= b->cap)
    return 0;
  /* Grow geometrically so appending n bytes one at a time costs O(n). */
  cap = b->cap ? b->cap : 256;
  while (cap < want)
    cap = cap > SIZE_MAX / 2 ? want : cap * 2;
  p = realloc(b->base, cap);
  if (p == NULL)
    return WEFT_ENOMEM;
  b->base = p;
  b->cap = cap;
  return 0;
}

int weft__buf_append(weft__buf_t *b, const void *data, size_t len) {
  if (len == 0)
    return 0;
  if (b->cap - b->len < len && weft__buf_reserve(b, len) != 0)
    return WEFT_ENOMEM;
  memcpy(b->base + b->len, data, len);
  b->len += len;
  return 0;
}

void weft__buf_consume(weft__buf_t *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->base, b->base + n, b->len - n);
  b->len -= n;
}

void weft__buf_free(weft__buf_t *b) {
  free(b->base);
  b->base = NULL;
  b->len = 0;
  b->cap = 0;
}
