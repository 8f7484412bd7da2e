/*
 * Replays a seed corpus through a fuzz target without libFuzzer, for make
 * check: replay_NAME [FILE|DIR ...], by default the files of
 * $top_srcdir/tests/fuzz/corpus/NAME.  Exit 0 when every input ran (a
 * broken rule aborts, as under libFuzzer); 1 when there was nothing to
 * run or a file could not be read.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0, n;

  if (f == NULL) {
    perror(path);
    return -1;
  }
  do {
    if (len == cap) {
      cap = cap ? 2 * cap : 4096;
      buf = realloc(buf, cap);
      if (buf == NULL)
        abort();
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
  } while (n > 0);
  fclose(f);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

static int replay(const char *path, size_t *count) {
  struct stat st;
  struct dirent **names;
  char sub[4096];
  int i, n, rc = 0;

  if (stat(path, &st) != 0) {
    perror(path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    (*count)++;
    return replay_file(path);
  }
  /* In name order, so a run is the same everywhere. */
  n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    perror(path);
    return -1;
  }
  for (i = 0; i < n; i++) {
    if (names[i]->d_name[0] != '.') {
      snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
      if (replay(sub, count) != 0)
        rc = -1;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  char dir[4096];
  const char *top = getenv("top_srcdir");
  size_t count = 0;
  int i, rc = 0;

  if (argc < 2) {
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
             top != NULL ? top : FUZZ_SRCDIR, fz_target.plugin->name);
    rc = replay(dir, &count);
  }
  for (i = 1; i < argc; i++)
    if (replay(argv[i], &count) != 0)
      rc = -1;
  printf("replay: codec \"%s\": %zu inputs\n", fz_target.plugin->name, count);
  return rc != 0 || count == 0 ? 1 : 0;
}
