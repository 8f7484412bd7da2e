/*
 * Options from the command line, NAME=VALUE (weft --codec-opt,
 * weft-codec-test).  A value is typed the way libconfig types it in a
 * listener's codec group, so an option means the same on the command line
 * as in weft.conf: true/false is a boolean, 42 or 0x2a an integer, 1.5 a
 * number, "..." a string.  Anything else is taken as a string too (64k,
 * big, 30s), which saves shell quoting.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <weft/error.h>

#include "opts_internal.h"

/* The escapes libconfig decodes in a string; others stay as written, for
 * the plugin to read (the line codec decodes \0 and \xHH itself). */
static char *weft__arg_unquote(const char *v, size_t n) {
  char *s = malloc(n + 1), *o = s;
  size_t i;

  if (s == NULL)
    return NULL;
  for (i = 0; i < n; i++) {
    if (v[i] != '\\' || i + 1 == n) {
      *o++ = v[i];
      continue;
    }
    switch (v[++i]) {
    case 'n':
      *o++ = '\n';
      break;
    case 'r':
      *o++ = '\r';
      break;
    case 't':
      *o++ = '\t';
      break;
    case 'f':
      *o++ = '\f';
      break;
    case '"':
    case '\\':
      *o++ = v[i];
      break;
    default:
      *o++ = '\\';
      *o++ = v[i];
    }
  }
  *o = '\0';
  return s;
}

/* libconfig's integers: decimal or 0x hex, an optional L for 64 bits. */
static int weft__arg_integer(const char *v, long long *out) {
  char buf[64], *end;
  size_t n = strlen(v);

  if (n == 0 || n >= sizeof(buf))
    return 0;
  memcpy(buf, v, n + 1);
  if (n > 1 && (buf[n - 1] == 'L' || buf[n - 1] == 'l'))
    buf[--n] = '\0';
  if (!isdigit((unsigned char)buf[0]) &&
      !((buf[0] == '-' || buf[0] == '+') && isdigit((unsigned char)buf[1])))
    return 0;
  errno = 0;
  *out = strtoll(buf, &end, 0);
  return *end == '\0' && errno == 0;
}

static int weft__arg_number(const char *v, double *out) {
  char *end;

  if (strpbrk(v, ".eE") == NULL || strpbrk(v, "xX") != NULL)
    return 0;
  if (!isdigit((unsigned char)v[0]) && v[0] != '-' && v[0] != '+' &&
      v[0] != '.')
    return 0;
  errno = 0;
  *out = strtod(v, &end);
  return *end == '\0' && errno == 0;
}

int weft__opts_add_arg(weft_opts_t *o, const char *arg, int line) {
  const char *eq = strchr(arg, '='), *v;
  char name[128], *s;
  long long i;
  double d;
  size_t n;
  int r;

  if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(name))
    return WEFT_EINVAL;
  memcpy(name, arg, (size_t)(eq - arg));
  name[eq - arg] = '\0';
  v = eq + 1;
  n = strlen(v);
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    s = weft__arg_unquote(v + 1, n - 2);
    r = s != NULL ? weft__opts_add_str(o, name, s, line) : WEFT_ENOMEM;
    free(s);
  } else if (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0) {
    r = weft__opts_add_bool(o, name, tolower((unsigned char)v[0]) == 't',
                            line);
  } else if (weft__arg_integer(v, &i)) {
    r = weft__opts_add_int(o, name, i, line);
  } else if (weft__arg_number(v, &d)) {
    r = weft__opts_add_float(o, name, d, line);
  } else {
    r = weft__opts_add_str(o, name, v, line);
  }
  return r;
}
