/*
 * weft: what `weft send` sends.  Lines of stdin (each without its '\n'),
 * stdin's bytes as they come (for stream codecs such as raw), or whole
 * files, one frame each.  A pipe or a terminal is read as data arrives, so
 * `weft send` can be used interactively; a regular file (or a device such
 * as /dev/null) cannot be polled and is read at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static void wc_input_end(wc_input_t *in, int status) {
  if (in->stopped)
    return;
  wc_input_stop(in);
  in->on_end(in->arg, status);
}

/* Hands complete lines (or the bytes, in WC_IN_BYTES) to on_frame. */
static void wc_input_data(wc_input_t *in, const uint8_t *p, size_t n) {
  const uint8_t *nl;
  char where[48];

  if (in->mode == WC_IN_BYTES) {
    in->on_frame(in->arg, p, n, "stdin");
    return;
  }
  while (n > 0 && !in->stopped) {
    nl = memchr(p, '\n', n);
    if (nl == NULL) {
      if (weft__buf_append(&in->line, p, n) != 0) {
        wc_err("stdin: out of memory for line %lu", in->lineno + 1);
        wc_input_end(in, -1);
      }
      return;
    }
    snprintf(where, sizeof(where), "line %lu", ++in->lineno);
    if (in->line.len == 0) {
      in->on_frame(in->arg, p, (size_t)(nl - p), where);
    } else {
      if (weft__buf_append(&in->line, p, (size_t)(nl - p)) != 0) {
        wc_err("stdin: out of memory for %s", where);
        wc_input_end(in, -1);
        return;
      }
      in->on_frame(in->arg, in->line.base, in->line.len, where);
      if (in->stopped)
        return; /* the buffer went with the input */
      in->line.len = 0;
    }
    n -= (size_t)(nl - p) + 1;
    p = nl + 1;
  }
}

/* The end of stdin: a last line without its '\n' is a frame too. */
static void wc_input_eof(wc_input_t *in) {
  char where[48];

  if (in->mode == WC_IN_LINES && in->line.len > 0) {
    snprintf(where, sizeof(where), "line %lu", ++in->lineno);
    in->on_frame(in->arg, in->line.base, in->line.len, where);
  }
  wc_input_end(in, 0);
}

static void wc_input_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  wc_input_t *in = h->data;

  (void)hint;
  buf->base = in->rbuf;
  buf->len = sizeof(in->rbuf);
}

static void wc_input_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  wc_input_t *in = st->data;

  if (n > 0) {
    wc_input_data(in, (const uint8_t *)buf->base, (size_t)n);
  } else if (n == UV_EOF) {
    wc_input_eof(in);
  } else if (n < 0) {
    wc_err("reading stdin: %s", uv_strerror((int)n));
    wc_input_end(in, -1);
  }
}

/* A whole file, one frame. */
static int wc_input_file(wc_input_t *in, const char *name) {
  FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
  weft__buf_t b = {NULL, 0, 0};
  char where[300];
  size_t n;
  int err = 0;

  if (f == NULL) {
    wc_err("--file %s: %s", name, strerror(errno));
    return -1;
  }
  do {
    if (weft__buf_reserve(&b, 65536) != 0) {
      wc_err("--file %s: out of memory", name);
      err = 1;
      break;
    }
    n = fread(b.base + b.len, 1, b.cap - b.len, f);
    b.len += n;
  } while (n > 0);
  if (!err && ferror(f)) {
    wc_err("--file %s: %s", name, strerror(errno));
    err = 1;
  }
  if (f != stdin)
    fclose(f);
  if (!err) {
    snprintf(where, sizeof(where), "file %s", name);
    in->on_frame(in->arg, b.base, b.len, where);
  }
  weft__buf_free(&b);
  return err ? -1 : 0;
}

/* stdin that cannot be polled: read it all now. */
static void wc_input_sync(wc_input_t *in) {
  ssize_t n;

  for (;;) {
    n = read(0, in->rbuf, sizeof(in->rbuf));
    if (n > 0) {
      wc_input_data(in, (const uint8_t *)in->rbuf, (size_t)n);
      if (in->stopped)
        return;
    } else if (n == 0 || errno == EBADF) {
      wc_input_eof(in); /* a closed stdin is an empty one */
      return;
    } else if (errno != EINTR) {
      wc_err("reading stdin: %s", strerror(errno));
      wc_input_end(in, -1);
      return;
    }
  }
}

void wc_input_start(wc_input_t *in, uv_loop_t *loop, wc_input_frame_cb fcb,
                    wc_input_end_cb ecb, void *arg) {
  size_t i;
  int r;

  in->loop = loop;
  in->on_frame = fcb;
  in->on_end = ecb;
  in->arg = arg;
  in->stopped = 0;
  if (in->mode == WC_IN_FILES) {
    for (i = 0; i < in->nfiles && !in->stopped; i++)
      if (wc_input_file(in, in->files[i]) != 0) {
        wc_input_end(in, -1);
        return;
      }
    wc_input_end(in, 0);
    return;
  }
  switch (uv_guess_handle(0)) {
  case UV_TTY:
    r = uv_tty_init(loop, &in->h.tty, 0, 1);
    break;
  case UV_NAMED_PIPE:
  case UV_TCP:
    r = uv_pipe_init(loop, &in->h.pipe, 0);
    if (r == 0 && (r = uv_pipe_open(&in->h.pipe, 0)) != 0)
      uv_close(&in->h.handle, NULL);
    break;
  default:
    wc_input_sync(in);
    return;
  }
  if (r == 0) {
    in->open = 1;
    in->h.handle.data = in;
    r = uv_read_start(&in->h.stream, wc_input_alloc, wc_input_read);
  }
  if (r != 0) {
    wc_err("reading stdin: %s", uv_strerror(r));
    wc_input_end(in, -1);
  }
}

void wc_input_stop(wc_input_t *in) {
  in->stopped = 1;
  if (in->open) {
    uv_read_stop(&in->h.stream);
    uv_close(&in->h.handle, NULL);
    in->open = 0;
  }
  weft__buf_free(&in->line);
}
