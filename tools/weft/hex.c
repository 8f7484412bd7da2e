/* weft: hex output, for replies that are not text, and excerpts. */
#include <string.h>

#include "client.h"

void wc_hex(FILE *f, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char buf[512];
  size_t i, k = 0;

  for (i = 0; i < n; i++) {
    buf[k++] = digits[p[i] >> 4];
    buf[k++] = digits[p[i] & 15];
    if (k == sizeof(buf)) {
      fwrite(buf, 1, k, f);
      k = 0;
    }
  }
  fwrite(buf, 1, k, f);
}

void wc_excerpt(char *out, size_t size, const uint8_t *p, size_t len) {
  size_t i, k = 0, shown = len < 24 ? len : 24;

  if (size < 8)
    return;
  out[k++] = '"';
  for (i = 0; i < shown && k + 6 < size; i++)
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
      out[k++] = (char)p[i];
    else
      k += (size_t)snprintf(out + k, size - k, "\\x%02x", p[i]);
  out[k++] = '"';
  if (i < len && k + 4 < size) {
    memcpy(out + k, "...", 3);
    k += 3;
  }
  out[k] = '\0';
}
