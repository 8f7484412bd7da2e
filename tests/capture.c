/* stderr capture for tests: a temporary file swapped in as fd 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"

static int capture_saved = -1;
static FILE *capture_file;
static char capture_buf[1 << 16];

void capture_start(void) {
  fflush(stderr);
  capture_file = tmpfile();
  if (capture_file == NULL)
    abort();
  capture_saved = dup(2);
  dup2(fileno(capture_file), 2);
}

const char *capture_end(void) {
  size_t n;

  fflush(stderr);
  dup2(capture_saved, 2);
  close(capture_saved);
  rewind(capture_file);
  n = fread(capture_buf, 1, sizeof(capture_buf) - 1, capture_file);
  capture_buf[n] = '\0';
  fclose(capture_file);
  /* Echo it, so a failing test's log shows what was said. */
  fputs(capture_buf, stderr);
  return capture_buf;
}

int capture_count(const char *s, const char *needle) {
  int n = 0;
  const char *line = s, *nl;

  while (*line) {
    nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    const char *p = strstr(line, needle);
    if (p != NULL && p < line + len)
      n++;
    line += len + (nl ? 1 : 0);
  }
  return n;
}
