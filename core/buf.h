/* Growable byte buffers used for a connection's input tail and output. */
#ifndef WEFT_CORE_BUF_H
#define WEFT_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct weft__buf {
  uint8_t *base;
  size_t len;
  size_t cap;
} weft__buf_t;

/* What an encoder's weft_out_t wraps: the buffer it appends to. */
struct weft_out {
  weft__buf_t *buf;
  /* The worker whose stage this is, while input bytes may be referenced
   * instead of copied (see stage.c); NULL: always copy. */
  struct weft__worker *zc;
  /* The frames being encoded are ones the codec's decode_many returned for
   * this connection, unchanged, their input still in place. */
  int decoded;
};

/* Makes room for `extra` more bytes past len.  0 or WEFT_ENOMEM. */
int weft__buf_reserve(weft__buf_t *b, size_t extra);
/* Appends a copy of data.  0 or WEFT_ENOMEM. */
int weft__buf_append(weft__buf_t *b, const void *data, size_t len);
/* Drops the first n bytes, keeping the rest at the start. */
void weft__buf_consume(weft__buf_t *b, size_t n);
/* Frees the memory: an idle connection holds no buffer. */
void weft__buf_free(weft__buf_t *b);

#endif /* WEFT_CORE_BUF_H */
