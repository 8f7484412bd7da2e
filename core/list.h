/* An intrusive doubly-linked list, so membership costs no allocation. */
#ifndef WEFT_CORE_LIST_H
#define WEFT_CORE_LIST_H

#include <stddef.h>

typedef struct weft__list {
  struct weft__list *prev;
  struct weft__list *next;
} weft__list_t;

#define WEFT__CONTAINER_OF(ptr, type, member)                                  \
  ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void weft__list_init(weft__list_t *l) { l->prev = l->next = l; }

static inline int weft__list_empty(const weft__list_t *l) {
  return l->next == l;
}

static inline void weft__list_push(weft__list_t *head, weft__list_t *n) {
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

/* Safe on a node that is not linked (after weft__list_init on it). */
static inline void weft__list_remove(weft__list_t *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}

#endif /* WEFT_CORE_LIST_H */
