/* The encoder's side of an output queue (weft_out_append is in stage.c). */
#include <weft/error.h>
#include <weft/out.h>

#include "buf.h"

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

int weft_out_decoded(const weft_out_t *out) {
  return out->decoded;
}
