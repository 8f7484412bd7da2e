/*
 * weft bench: CPU time, for the cost of a frame.  The server's, as utime +
 * stime of the whole process (all threads) from /proc/PID/stat; the busy
 * time of the server's CPU from /proc/stat, which also holds the network
 * stack's softirq work done there, even in ksoftirqd; and this process's
 * own, from getrusage().  Linux only: elsewhere the reads fail, said.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

int64_t wc_cpu_proc(int64_t pid) {
  char path[64], buf[1024], *p;
  unsigned long long ut, st;
  FILE *f;
  size_t n;
  int i;

  snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
  f = fopen(path, "r");
  if (f == NULL) {
    wc_err("--server-pid %lld: cannot read %s: %s", (long long)pid, path,
           strerror(errno));
    return -1;
  }
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* The command name, in parentheses, may hold spaces and parentheses:
   * the fields start after the last ')'.  utime and stime are fields 14
   * and 15, the state (right after it) field 3. */
  p = strrchr(buf, ')');
  for (i = 2; i < 14 && p != NULL; i++)
    p = strchr(p + 1, ' ');
  if (p == NULL || sscanf(p, " %llu %llu", &ut, &st) != 2) {
    wc_err("--server-pid %lld: %s: no utime and stime in it", (long long)pid,
           path);
    return -1;
  }
  return (int64_t)(ut + st);
}

int64_t wc_cpu_core(int64_t cpu) {
  char want[32], line[1024];
  unsigned long long v[8];
  int64_t busy = -1;
  size_t k;
  FILE *f;

  f = fopen("/proc/stat", "r");
  if (f == NULL) {
    wc_err("--server-cpu %lld: cannot read /proc/stat: %s", (long long)cpu,
           strerror(errno));
    return -1;
  }
  k = (size_t)snprintf(want, sizeof(want), "cpu%lld ", (long long)cpu);
  /* The cpu lines come first; the ones after may be long (intr). */
  while (fgets(line, sizeof(line), f) != NULL && strncmp(line, "cpu", 3) == 0) {
    if (strncmp(line, want, k) != 0)
      continue;
    /* user nice system idle iowait irq softirq steal */
    if (sscanf(line + k, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
      busy = (int64_t)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
    break;
  }
  fclose(f);
  if (busy < 0)
    wc_err("--server-cpu %lld: no line \"cpu%lld\" with 8 times in "
           "/proc/stat: not an online CPU",
           (long long)cpu, (long long)cpu);
  return busy;
}

double wc_cpu_self(void) {
  struct rusage ru;

  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return -1;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
