/* weft: HOST:PORT, [IPv6]:PORT and unix:PATH, resolved before any dialing. */
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"

int wc_addr_resolve(wc_addr_t *a, const char *text) {
  struct addrinfo hints;
  struct sockaddr_un sun;
  char host[256];
  const char *colon, *port, *h = text;
  size_t hlen;
  int r;

  memset(a, 0, sizeof(*a));
  a->text = text;
  if (strncmp(text, "unix:", 5) == 0) {
    if (text[5] == '\0' || strlen(text + 5) >= sizeof(sun.sun_path)) {
      wc_err("\"%s\": a Unix socket path must have 1 to %zu bytes", text,
             sizeof(sun.sun_path) - 1);
      return -1;
    }
    a->path = strdup(text + 5);
    if (a->path == NULL) {
      wc_err("out of memory");
      return -1;
    }
    return 0;
  }
  colon = strrchr(text, ':');
  if (text[0] == '[') {
    /* [::1]:7000 */
    const char *close = strchr(text, ']');
    if (close == NULL || close[1] != ':') {
      wc_err("\"%s\": expected [IPV6]:PORT", text);
      return -1;
    }
    h = text + 1;
    hlen = (size_t)(close - h);
    colon = close + 1;
  } else if (colon == NULL || strchr(text, ':') != colon) {
    wc_err("\"%s\": expected HOST:PORT, [IPV6]:PORT or unix:PATH", text);
    return -1;
  } else {
    hlen = (size_t)(colon - text);
  }
  port = colon + 1;
  if (hlen == 0 || hlen >= sizeof(host) || *port == '\0') {
    wc_err("\"%s\": expected HOST:PORT, [IPV6]:PORT or unix:PATH", text);
    return -1;
  }
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  r = getaddrinfo(host, port, &hints, &a->ai);
  if (r != 0) {
    wc_err("cannot resolve \"%s\": %s", text,
           r == EAI_SYSTEM ? "system error" : gai_strerror(r));
    a->ai = NULL;
    return -1;
  }
  return 0;
}

void wc_addr_free(wc_addr_t *a) {
  free(a->path);
  if (a->ai != NULL)
    freeaddrinfo(a->ai);
  a->path = NULL;
  a->ai = NULL;
}
