/*
 * A unit test of the example handler, upper.c, with no daemon and no
 * network: the handler runs on an in-memory connection (weft_embed(3))
 * with the built-in line codec, and the test plays the peer.
 *
 * Build (the Makefile's `check` target does this, and runs it):
 *   cc -rdynamic $(pkg-config --cflags weft cmocka) test_upper.c upper.c \
 *      $(pkg-config --libs weft cmocka) -o test_upper
 *
 * upper.c is linked in, so its descriptor, `weft_plugin`, is a symbol of
 * this program.  The test also proves that no socket is opened: it defines
 * socket() and socketpair() itself and is linked with -rdynamic, so that
 * every call in the process, libweft's and libuv's included, comes here
 * and is counted (test_socket_guard checks the dynamic linker agrees), and
 * it looks for sockets among the open descriptors after each test.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <weft/weft.h>

/* upper.c's descriptor. */
extern const weft_plugin_t weft_plugin;

/* ---- no sockets --------------------------------------------------------- */

static int sockets_asked;

/* These replace the C library's for the whole process: a call from any
 * library resolves to the program's definition first, provided the
 * program exports it (-rdynamic, and default visibility even when built
 * with -fvisibility=hidden). */
#define EXPORTED __attribute__((visibility("default")))

EXPORTED int socket(int domain, int type, int protocol) {
  (void)domain;
  (void)type;
  (void)protocol;
  sockets_asked++;
  errno = EACCES;
  return -1;
}

EXPORTED int socketpair(int domain, int type, int protocol, int sv[2]) {
  (void)domain;
  (void)type;
  (void)protocol;
  (void)sv;
  sockets_asked++;
  errno = EACCES;
  return -1;
}

/* Sockets among the open descriptors, as their "socket:[inode]" names. */
static int socket_fds(char *names, size_t size) {
  char target[64];
  struct dirent *de;
  size_t used = 0;
  int n = 0;
  ssize_t len;
  DIR *d = opendir("/proc/self/fd");

  assert_non_null(d);
  names[0] = '\0';
  while ((de = readdir(d)) != NULL) {
    len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
    if (len <= 0)
      continue;
    target[len] = '\0';
    if (strncmp(target, "socket:", 7) != 0)
      continue;
    n++;
    used += (size_t)snprintf(names + used, used < size ? size - used : 0, "%s ",
                             target);
  }
  closedir(d);
  return n;
}

/* Sockets this process had before the tests (inherited ones, if any). */
static char sockets_before[4096];

static int setup(void **state) {
  (void)state;
  socket_fds(sockets_before, sizeof(sockets_before));
  return 0;
}

/* Run after each test: it fails if anything asked for a socket. */
static int no_socket_opened(void **state) {
  char now[4096];

  (void)state;
  socket_fds(now, sizeof(now));
  if (sockets_asked != 0 || strcmp(now, sockets_before) != 0) {
    print_error("a socket was asked for %d times; sockets now: %s (before: "
                "%s)\n",
                sockets_asked, now, sockets_before);
    return -1;
  }
  return 0;
}

/* The guard is live: the socket() every library reaches is ours. */
static void test_socket_guard(void **state) {
  int (*sock)(int, int, int);
  int (*pair)(int, int, int, int[2]);
  int sv[2];

  (void)state;
  *(void **)&sock = dlsym(RTLD_DEFAULT, "socket");
  *(void **)&pair = dlsym(RTLD_DEFAULT, "socketpair");
  assert_true(sock == socket);
  assert_true(pair == socketpair);
  assert_int_equal(sock(AF_INET, SOCK_STREAM, 0), -1);
  assert_int_equal(pair(AF_UNIX, SOCK_STREAM, 0, sv), -1);
  assert_int_equal(sockets_asked, 2);
  sockets_asked = 0;
}

/* ---- the handler -------------------------------------------------------- */

static weft_embed_t *open_upper(const char *line_opts) {
  weft_embed_t *e = NULL;

  /* The codec by name, from those built into libweft; the handler by
   * its descriptor. */
  assert_int_equal(weft_embed_new(&e, weft_embed_builtin("line"), line_opts,
                                  &weft_plugin, NULL),
                   0);
  return e;
}

static void expect_frame(weft_embed_t *e, const char *want, size_t len) {
  const uint8_t *f;
  size_t n;

  assert_int_equal(weft_embed_read_frame(e, &f, &n), 1);
  assert_int_equal(n, len);
  assert_memory_equal(f, want, len);
}

static void test_upper_cases_frames(void **state) {
  weft_embed_t *e = open_upper(NULL);
  const uint8_t *out;
  size_t n;

  (void)state;
  assert_string_equal(weft_conn_peer(weft_embed_conn(e)), "memory");
  assert_int_equal(weft_embed_feed(e, "hello\nWorld 42!\n", 16), 0);
  expect_frame(e, "HELLO", 5);
  expect_frame(e, "WORLD 42!", 9);
  /* Only ASCII letters change: an empty frame, UTF-8 and NUL do not. */
  assert_int_equal(weft_embed_feed(e, "\n\xc3\xa9t\xc3\xa9\na\0b\n", 11), 0);
  expect_frame(e, "", 0);
  expect_frame(e, "\xc3\xa9T\xc3\xa9", 5);
  expect_frame(e, "A\0B", 3);
  /* A line in pieces is one frame. */
  assert_int_equal(weft_embed_feed(e, "spl", 3), 0);
  assert_int_equal(weft_embed_output(e, NULL), 0);
  assert_int_equal(weft_embed_feed(e, "it\r\n", 4), 0);
  n = weft_embed_output(e, &out);
  assert_int_equal(n, 6);
  assert_memory_equal(out, "SPLIT\n", 6);
  weft_embed_free(e);
}

/* Frames larger than upper's scratch buffer take its malloc path. */
static void test_upper_large_frame(void **state) {
  size_t i, len = 100000;
  char *in = malloc(len), *want = malloc(len);
  weft_embed_t *e = open_upper("max_length = \"200k\";");

  (void)state;
  assert_non_null(in);
  assert_non_null(want);
  for (i = 0; i < len; i++) {
    in[i] = (char)('a' + i % 26);
    want[i] = (char)('A' + i % 26);
  }
  assert_int_equal(weft_embed_feed_frame(e, in, len), 0);
  expect_frame(e, want, len);
  free(in);
  free(want);
  weft_embed_free(e);
}

/* The connection ends as the engine ends it: replies first, then the close
 * with the codec's reason. */
static void test_upper_close(void **state) {
  const char *detail = NULL;
  weft_embed_t *e = open_upper("max_length = 8;");
  int reason = 1;

  (void)state;
  assert_int_equal(weft_embed_feed(e, "ok\nfar too long\nnever\n", 22), 0);
  expect_frame(e, "OK", 2);
  assert_int_equal(weft_embed_closed(e, &reason, &detail), 2);
  assert_int_equal(reason, WEFT_EMSGSIZE);
  assert_non_null(detail);
  assert_int_equal(weft_embed_feed(e, "x\n", 2), WEFT_ECLOSED);
  weft_embed_free(e);

  e = open_upper(NULL);
  assert_int_equal(weft_embed_feed(e, "last\n", 5), 0);
  assert_int_equal(weft_embed_eof(e), 0);
  expect_frame(e, "LAST", 4);
  assert_int_equal(weft_embed_closed(e, &reason, NULL), 2);
  assert_int_equal(reason, 0);
  weft_embed_free(e);
}

/* upper takes no options: one given is refused, as weftd would. */
static void test_upper_refuses_options(void **state) {
  weft_embed_t *e = NULL;

  (void)state;
  assert_int_equal(weft_embed_new(&e, weft_embed_builtin("line"), NULL,
                                  &weft_plugin, "shout = true;"),
                   WEFT_ECONFIG);
  assert_null(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_socket_guard, no_socket_opened),
      cmocka_unit_test_teardown(test_upper_cases_frames, no_socket_opened),
      cmocka_unit_test_teardown(test_upper_large_frame, no_socket_opened),
      cmocka_unit_test_teardown(test_upper_close, no_socket_opened),
      cmocka_unit_test_teardown(test_upper_refuses_options, no_socket_opened),
  };
  return cmocka_run_group_tests(tests, setup, no_socket_opened);
}
