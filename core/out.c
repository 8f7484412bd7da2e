/* The encoder's side of an output queue. */
#include <weft/error.h>
#include <weft/out.h>

#include "buf.h"

int weft_out_append(weft_out_t *out, const void *data, size_t len) {
  return weft__buf_append(out->buf, data, len);
}

uint8_t *weft_out_reserve(weft_out_t *out, size_t len) {
  weft__buf_t *b = out->buf;
  uint8_t *p;

  /* The common case, room enough, stays a comparison. */
  if (b->cap - b->len < len && weft__buf_reserve(b, len) != 0)
    return NULL;
  p = b->base + b->len;
  b->len += len;
  return p;
}
