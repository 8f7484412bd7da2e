/*
 * weft-codec-test: every call of decode() and decode_eof() gets a private
 * copy of its input in pages of its own whose neighbours are PROT_NONE,
 * flush against the trailing guard (a read past the input faults) or,
 * every other call, against the leading one (a read before it faults).
 * After the call the copy is scribbled over, sealed and kept for a while,
 * so a pointer kept past the call faults when it is used.  The fault
 * handler says which it was, with the input.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ct.h"

/* Inputs copied into guard pages are freed only after this many calls. */
#define CT_QUARANTINE 16

typedef struct {
  uint8_t *map; /* [guard page][data pages][guard page] */
  size_t maplen;
  uint8_t *data;
  size_t len;
} ct_region_t;

static size_t ct_pagesz;
static ct_region_t cur;                       /* the running call's copy */
static ct_region_t quarantine[CT_QUARANTINE]; /* earlier calls' copies */
static size_t qnext;

static ct_region_t ct_guard_copy(const uint8_t *in, size_t len, int left) {
  ct_region_t r;
  size_t data_pages = (len + ct_pagesz - 1) / ct_pagesz;
  size_t i;

  if (data_pages == 0)
    data_pages = 1;
  memset(&r, 0, sizeof(r));
  r.maplen = (data_pages + 2) * ct_pagesz;
  /* Reuse a quarantined mapping of the right size: cheaper than mmap. */
  for (i = 0; i < CT_QUARANTINE; i++) {
    ct_region_t *q = &quarantine[(qnext + i) % CT_QUARANTINE];
    if (q->map != NULL && q->maplen == r.maplen) {
      r.map = q->map;
      q->map = NULL;
      break;
    }
  }
  if (r.map == NULL) {
    r.map = mmap(NULL, r.maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r.map == MAP_FAILED) {
      perror("weft-codec-test: mmap");
      exit(2);
    }
  }
  if (mprotect(r.map + ct_pagesz, data_pages * ct_pagesz,
               PROT_READ | PROT_WRITE) != 0) {
    perror("weft-codec-test: mprotect");
    exit(2);
  }
  /* Right against the trailing guard (an overread faults), or, every
   * other call, right after the leading one (an underread faults). */
  r.data = left ? r.map + ct_pagesz
                : r.map + ct_pagesz + data_pages * ct_pagesz - len;
  r.len = len;
  memcpy(r.data, in, len);
  return r;
}

/* Scribbles over the copy and seals it, so a kept pointer faults. */
static void ct_guard_retire(ct_region_t *r) {
  ct_region_t *q = &quarantine[qnext];

  memset(r->map + ct_pagesz, 0xa5, r->maplen - 2 * ct_pagesz);
  mprotect(r->map, r->maplen, PROT_NONE);
  if (q->map != NULL)
    munmap(q->map, q->maplen);
  *q = *r;
  qnext = (qnext + 1) % CT_QUARANTINE;
  memset(r, 0, sizeof(*r));
}

static int ct_in_quarantine(const void *p) {
  const uint8_t *b = p;
  size_t i;

  for (i = 0; i < CT_QUARANTINE; i++)
    if (quarantine[i].map != NULL && b >= quarantine[i].map &&
        b < quarantine[i].map + quarantine[i].maplen)
      return 1;
  return 0;
}

/* Async-signal-safe output for the fault handler. */
static void sig_puts(const char *s) {
  if (write(STDOUT_FILENO, s, strlen(s)) < 0)
    return;
}

static void sig_putu(unsigned long v) {
  char b[24];
  int i = (int)sizeof(b);

  b[--i] = '\0';
  do
    b[--i] = (char)('0' + v % 10);
  while ((v /= 10) > 0 && i > 0);
  sig_puts(b + i);
}

static void sig_hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char b[3];
  size_t i, show = n < 256 ? n : 256;

  b[2] = '\0';
  for (i = 0; i < show; i++) {
    sig_puts(i % 32 == 0 ? "\n    " : i % 4 == 0 ? " " : "");
    b[0] = digits[p[i] >> 4];
    b[1] = digits[p[i] & 15];
    sig_puts(b);
  }
  sig_puts(n > show ? " ...\n" : "\n");
}

static void ct_on_fault(int sig, siginfo_t *si, void *uc) {
  const uint8_t *a = si->si_addr;
  int i;

  (void)uc;
  sig_puts("FAIL ");
  sig_puts(ct_now.check ? ct_now.check : "setup");
  sig_puts(": ");
  if (!ct_now.in_call) {
    sig_puts(sig == SIGSEGV ? "segmentation fault" : "fatal signal");
    sig_puts(" outside decode\n");
  } else {
    sig_puts(ct_now.call_fn);
    if (cur.map != NULL && a >= cur.data + cur.len &&
        a < cur.map + cur.maplen) {
      sig_puts("() read ");
      sig_putu((unsigned long)(a - (cur.data + cur.len)) + 1);
      sig_puts(" byte(s) past the end of its ");
      sig_putu(cur.len);
      sig_puts("-byte input\n");
    } else if (cur.map != NULL && a >= cur.map && a < cur.data) {
      sig_puts("() read ");
      sig_putu((unsigned long)(cur.data - a));
      sig_puts(" byte(s) before the start of its input\n");
    } else if (ct_in_quarantine(a)) {
      sig_puts("() used a pointer into the input of an earlier call: a "
               "codec must not keep pointers into its input past the call\n");
    } else {
      sig_puts("() crashed (");
      sig_puts(sig == SIGSEGV  ? "SIGSEGV"
               : sig == SIGBUS ? "SIGBUS"
                               : "signal");
      sig_puts(")\n");
    }
    sig_puts("  call #");
    sig_putu(ct_now.calls);
    sig_puts(", input of that call (");
    sig_putu(ct_now.call_len);
    sig_puts(" bytes):");
    sig_hex(ct_now.call_in, ct_now.call_len);
  }
  if (ct_now.split[0] != '\0') {
    sig_puts("  fed as: ");
    sig_puts(ct_now.split);
    sig_puts("\n");
  }
  if (ct_now.stream != NULL) {
    sig_puts("  input (");
    sig_putu(ct_now.stream_len);
    sig_puts(" bytes):");
    sig_hex(ct_now.stream, ct_now.stream_len);
  }
  sig_puts("  reproduce: weft-codec-test --seed ");
  sig_putu((unsigned long)ct_cfg.seed);
  sig_puts(ct_cfg.stream ? " --stream " : " ");
  sig_puts(ct_cfg.plugin);
  for (i = 0; i < ct_cfg.argc; i++) {
    sig_puts(" '");
    sig_puts(ct_cfg.argv[i]);
    sig_puts("'");
  }
  sig_puts("\n");
  _exit(1);
}

/* The frame a call returned lies in its guarded copy: move it back to
 * the framer's bytes, or say what is wrong with it. */
static void ct_check_frame(const ct_region_t *r, const uint8_t *in,
                           weft_decode_t *d) {
  if (d->frame_len == 0)
    return;
  if (d->frame != NULL && d->frame >= r->data && d->frame_len <= r->len &&
      d->frame <= r->data + r->len - d->frame_len) {
    d->frame = in + (d->frame - r->data);
    return;
  }
  if (d->frame != NULL && ct_in_quarantine(d->frame))
    ct_fail("%s() returned a frame inside the input of an earlier call: a "
            "codec must not keep pointers into its input past the call",
            ct_now.call_fn);
  else
    ct_fail("%s() returned a frame (%zu bytes) outside its %zu-byte input",
            ct_now.call_fn, d->frame_len, r->len);
  d->frame = NULL; /* the framer refuses it: WEFT_EPLUGIN */
}

static weft_decode_status_t ct_call(int eof, weft_codec_ctx_t *ctx,
                                    const uint8_t *in, size_t len,
                                    weft_decode_t *d) {
  weft_decode_status_t st;

  ct_now.calls++;
  ct_now.call_in = in;
  ct_now.call_len = len;
  ct_now.call_fn = eof ? "decode_eof" : "decode";
  cur = ct_guard_copy(in, len, (int)(ct_now.calls & 1));
  ct_now.in_call = 1;
  st = eof ? ct_codec.vt->decode_eof(ctx, cur.data, len, d)
           : ct_codec.vt->decode(ctx, cur.data, len, d);
  ct_now.in_call = 0;
  if (st == WEFT_DECODE_FRAME) {
    if (d->consumed == 0 || d->consumed > len)
      ct_fail("%s() returned a frame that consumed %zu bytes of a %zu-byte "
              "input (1 to the input's length)",
              ct_now.call_fn, d->consumed, len);
    ct_check_frame(&cur, in, d);
  }
  ct_guard_retire(&cur);
  return st;
}

weft_decode_status_t ct_decode(weft_codec_ctx_t *ctx, const uint8_t *in,
                               size_t len, weft_decode_t *d) {
  return ct_call(0, ctx, in, len, d);
}

weft_decode_status_t ct_decode_eof(weft_codec_ctx_t *ctx, const uint8_t *in,
                                   size_t len, weft_decode_t *d) {
  return ct_call(1, ctx, in, len, d);
}

void ct_guard_init(void) {
  struct sigaction sa;

  ct_pagesz = (size_t)sysconf(_SC_PAGESIZE);
  /* Faults inside decode are the plugin's: report them, with the input. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = ct_on_fault;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
}

void ct_guard_free(void) {
  size_t i;

  for (i = 0; i < CT_QUARANTINE; i++)
    if (quarantine[i].map != NULL)
      munmap(quarantine[i].map, quarantine[i].maplen);
}
