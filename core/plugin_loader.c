/*
 * Loading plugins.  Each way a load can fail has its own message naming the
 * file, checked in a fixed order before any plugin code runs: the file
 * (found, regular, not a symlink, not writable by others), the dynamic
 * loader (with its own reason, resolving every symbol now so a missing one
 * is caught at load and not mid-traffic), the descriptor (symbol, magic,
 * ABI major, sizes, kind, name, vtable, required callbacks).
 */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <ltdl.h>

#include <weft/error.h>
#include <weft/log.h>

#include "plugin_loader.h"

#define WEFT__BUILTIN "built-in"

const char *weft_plugin_kind_name(uint32_t kind) {
  switch (kind) {
  case WEFT_PLUGIN_CODEC:
    return "codec";
  case WEFT_PLUGIN_HANDLER:
    return "handler";
  default:
    return "unknown";
  }
}

static int weft__errf(char *err, size_t len, const char *fmt, ...)
    WEFT_PRINTF(3, 4);

static int weft__errf(char *err, size_t len, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
  return WEFT_EPLUGIN;
}

/*
 * libtool generates this table when libweft is linked with -dlpreopen of
 * the built-in plugins.  Weak, so the unit tests that link the engine
 * without the built-ins still link.
 */
extern const lt_dlsymlist lt_libweft_LTX_preloaded_symbols[]
    __attribute__((weak));

int weft__plugins_init(weft__plugins_t *reg, const char *const *search,
                       size_t nsearch, const char *libdir) {
  weft__list_init(&reg->loaded);
  reg->search = search;
  reg->nsearch = nsearch;
  reg->libdir = libdir;
  if (lt_libweft_LTX_preloaded_symbols != NULL)
    lt_dlpreload_default(lt_libweft_LTX_preloaded_symbols);
  if (lt_dlinit() != 0) {
    weft_log(WEFT_LOG_ERROR, "cannot start libltdl: %s", lt_dlerror());
    return WEFT_EPLUGIN;
  }
  return 0;
}

static void weft__plugin_unload(weft__plugin_t *p) {
  weft__list_remove(&p->node);
  if (p->handle != NULL)
    lt_dlclose((lt_dlhandle)p->handle);
  free(p->name);
  free(p->file);
  free(p);
}

void weft__plugins_destroy(weft__plugins_t *reg) {
  while (!weft__list_empty(&reg->loaded))
    weft__plugin_unload(
        WEFT__CONTAINER_OF(reg->loaded.next, weft__plugin_t, node));
  lt_dlexit();
}

void weft__plugin_release(weft__plugins_t *reg, weft__plugin_t *p) {
  (void)reg;
  if (p != NULL && --p->refs == 0)
    weft__plugin_unload(p);
}

/* Smallest descriptor and vtables this weft accepts (ABI 1.0). */
#define WEFT__DESC_MIN offsetof(weft_plugin_t, reserved)
#define WEFT__CODEC_MIN                                                        \
  (offsetof(weft_codec_vtable_t, encode) + sizeof(void *))
#define WEFT__HANDLER_MIN                                                      \
  (offsetof(weft_handler_vtable_t, on_shutdown) + sizeof(void *))

static int weft__name_valid(const char *s) {
  size_t n = 0;

  for (; *s; s++, n++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
          *s == '-'))
      return 0;
  return n > 0 && n <= 64;
}

/* Checks a descriptor in the documented order; fills p's vtable copy. */
static int weft__plugin_validate(const weft_plugin_t *d, const char *file,
                                 weft__plugin_t *p, char *err, size_t len) {
  size_t vsize, have;

  if (d->magic != WEFT_PLUGIN_MAGIC)
    return weft__errf(err, len,
                      "%s: not a weft plugin: descriptor magic is 0x%08x, "
                      "expected 0x%08x",
                      file, (unsigned)d->magic, (unsigned)WEFT_PLUGIN_MAGIC);
  if (d->abi_major != WEFT_ABI_MAJOR)
    return weft__errf(err, len,
                      "%s: built for plugin ABI %u.%u, but this weft has ABI "
                      "%u.%u: rebuild it against weft %s",
                      file, (unsigned)d->abi_major, (unsigned)d->abi_minor,
                      (unsigned)WEFT_ABI_MAJOR, (unsigned)WEFT_ABI_MINOR,
                      WEFT_VERSION_STRING);
  if (d->struct_size < WEFT__DESC_MIN)
    return weft__errf(err, len,
                      "%s: descriptor is %u bytes, smaller than the %zu "
                      "bytes of ABI %u.0",
                      file, (unsigned)d->struct_size, (size_t)WEFT__DESC_MIN,
                      (unsigned)WEFT_ABI_MAJOR);
  if (d->kind != WEFT_PLUGIN_CODEC && d->kind != WEFT_PLUGIN_HANDLER)
    return weft__errf(err, len, "%s: unknown plugin kind %u", file,
                      (unsigned)d->kind);
  if (d->name == NULL || !weft__name_valid(d->name))
    return weft__errf(err, len,
                      "%s: plugin name must be 1-64 of [a-z0-9_-], got \"%s\"",
                      file, d->name ? d->name : "(null)");
  if (d->vtable == NULL)
    return weft__errf(err, len, "%s: plugin \"%s\" has no vtable", file,
                      d->name);
  vsize = *(const size_t *)d->vtable;
  if (d->kind == WEFT_PLUGIN_CODEC) {
    const weft_codec_vtable_t *vt = d->vtable;
    if (vsize < WEFT__CODEC_MIN)
      return weft__errf(err, len,
                        "%s: codec \"%s\" vtable is %zu bytes, smaller than "
                        "the %zu bytes of ABI %u.0",
                        file, d->name, vsize, (size_t)WEFT__CODEC_MIN,
                        (unsigned)WEFT_ABI_MAJOR);
    have = vsize < sizeof(p->codec) ? vsize : sizeof(p->codec);
    memset(&p->codec, 0, sizeof(p->codec));
    memcpy(&p->codec, vt, have);
    p->codec.struct_size = sizeof(p->codec);
    if (p->codec.decode == NULL || p->codec.encode == NULL)
      return weft__errf(err, len,
                        "%s: codec \"%s\" lacks a required callback (%s)",
                        file, d->name,
                        p->codec.decode == NULL ? "decode" : "encode");
  } else {
    const weft_handler_vtable_t *vt = d->vtable;
    if (vsize < WEFT__HANDLER_MIN)
      return weft__errf(err, len,
                        "%s: handler \"%s\" vtable is %zu bytes, smaller than "
                        "the %zu bytes of ABI %u.0",
                        file, d->name, vsize, (size_t)WEFT__HANDLER_MIN,
                        (unsigned)WEFT_ABI_MAJOR);
    have = vsize < sizeof(p->handler) ? vsize : sizeof(p->handler);
    memset(&p->handler, 0, sizeof(p->handler));
    memcpy(&p->handler, vt, have);
    p->handler.struct_size = sizeof(p->handler);
    if (p->handler.on_frame == NULL)
      return weft__errf(err, len,
                        "%s: handler \"%s\" lacks the required on_frame", file,
                        d->name);
  }
  return 0;
}

/* A plugin file must be a regular file only its owner may change. */
static int weft__plugin_file_ok(const char *path, char *err, size_t len) {
  struct stat st;
  char dir[PATH_MAX];

  if (lstat(path, &st) != 0)
    return weft__errf(err, len, "%s: %s", path, strerror(errno));
  if (S_ISLNK(st.st_mode))
    return weft__errf(err, len,
                      "%s: refusing a symbolic link: name the real file", path);
  if (!S_ISREG(st.st_mode))
    return weft__errf(err, len, "%s: not a regular file", path);
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return weft__errf(err, len,
                      "%s: refusing a file that is group- or world-writable "
                      "(mode %03o)",
                      path, (unsigned)(st.st_mode & 0777));
  snprintf(dir, sizeof(dir), "%s", path);
  if (stat(dirname(dir), &st) == 0 && (st.st_mode & S_IWOTH) &&
      !(st.st_mode & S_ISVTX))
    return weft__errf(err, len,
                      "%s: refusing a plugin in a world-writable directory",
                      path);
  return 0;
}

static weft__plugin_t *weft__plugin_find(weft__plugins_t *reg,
                                         const char *file) {
  weft__list_t *n;

  for (n = reg->loaded.next; n != &reg->loaded; n = n->next) {
    weft__plugin_t *p = WEFT__CONTAINER_OF(n, weft__plugin_t, node);
    if (!p->stale && strcmp(p->file, file) == 0)
      return p;
  }
  return NULL;
}

int weft__plugin_changed(const weft__plugin_t *p) {
  struct stat st;

  if (p == NULL || p->st.st_ino == 0)
    return 0; /* built in */
  if (stat(p->file, &st) != 0)
    return 1;
  return st.st_dev != p->st.st_dev || st.st_ino != p->st.st_ino ||
         st.st_size != p->st.st_size ||
         st.st_mtim.tv_sec != p->st.st_mtim.tv_sec ||
         st.st_mtim.tv_nsec != p->st.st_mtim.tv_nsec;
}

/*
 * The dynamic loader hands back the object it already has for a path, so
 * a file replaced on disk is loaded from a private copy of it: a new path,
 * a new object.  The copy is removed once open (the mapping stays).
 */
static int weft__plugin_copy(const char *from, char *to, size_t len) {
  const char *tmp = getenv("TMPDIR");
  char buf[65536];
  ssize_t n;
  int in, out, ok = 1;

  snprintf(to, len, "%s/weft-plugin-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  out = mkstemp(to);
  if (out < 0)
    return -1;
  in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    ok = 0;
  while (ok && (n = read(in, buf, sizeof(buf))) != 0)
    if (n < 0 || write(out, buf, (size_t)n) != n)
      ok = 0;
  if (in >= 0)
    close(in);
  if (fchmod(out, 0500) != 0)
    ok = 0;
  close(out);
  if (!ok) {
    unlink(to);
    return -1;
  }
  return 0;
}

/* Validates a freshly opened handle and registers it. */
static weft__plugin_t *weft__plugin_adopt(weft__plugins_t *reg,
                                          lt_dlhandle h, const char *file,
                                          char *err, size_t len) {
  const weft_plugin_t *d;
  weft__plugin_t *p;
  weft__list_t *n;

  d = lt_dlsym(h, WEFT_PLUGIN_SYMBOL_NAME);
  if (d == NULL) {
    weft__errf(err, len,
               "%s: not a weft plugin: it exports no \"%s\" symbol (define "
               "it with WEFT_CODEC_PLUGIN or WEFT_HANDLER_PLUGIN)",
               file, WEFT_PLUGIN_SYMBOL_NAME);
    lt_dlclose(h);
    return NULL;
  }
  p = calloc(1, sizeof(*p));
  if (p == NULL) {
    weft__errf(err, len, "%s: out of memory", file);
    lt_dlclose(h);
    return NULL;
  }
  weft__list_init(&p->node);
  if (weft__plugin_validate(d, file, p, err, len) != 0) {
    free(p);
    lt_dlclose(h);
    return NULL;
  }
  /* Two files may not claim one name: which one a config meant is unclear. */
  for (n = reg->loaded.next; n != &reg->loaded; n = n->next) {
    weft__plugin_t *o = WEFT__CONTAINER_OF(n, weft__plugin_t, node);
    if (!o->stale && strcmp(o->name, d->name) == 0) {
      weft__errf(err, len, "%s: plugin name \"%s\" is already provided by %s",
                 file, d->name, o->file);
      free(p);
      lt_dlclose(h);
      return NULL;
    }
  }
  p->name = strdup(d->name);
  p->file = strdup(file);
  p->handle = h;
  p->desc = d;
  p->kind = d->kind;
  if (p->name == NULL || p->file == NULL) {
    weft__errf(err, len, "%s: out of memory", file);
    p->handle = NULL;
    free(p->name);
    free(p->file);
    free(p);
    lt_dlclose(h);
    return NULL;
  }
  weft__list_push(&reg->loaded, &p->node);
  return p;
}

weft__plugin_t *weft__plugin_from_desc(weft__plugins_t *reg,
                                       const weft_plugin_t *d,
                                       const char *label, uint32_t kind,
                                       char *err, size_t len) {
  weft__plugin_t *p;
  weft__list_t *n;

  if (d == NULL) {
    weft__errf(err, len, "%s: no descriptor (NULL)", label);
    return NULL;
  }
  p = calloc(1, sizeof(*p));
  if (p == NULL) {
    weft__errf(err, len, "%s: out of memory", label);
    return NULL;
  }
  weft__list_init(&p->node);
  if (weft__plugin_validate(d, label, p, err, len) != 0) {
    free(p);
    return NULL;
  }
  if (d->kind != kind) {
    weft__errf(err, len, "%s: \"%s\" is a %s plugin, given as the %s", label,
               d->name, weft_plugin_kind_name(d->kind),
               weft_plugin_kind_name(kind));
    free(p);
    return NULL;
  }
  for (n = reg->loaded.next; n != &reg->loaded; n = n->next)
    if (strcmp(WEFT__CONTAINER_OF(n, weft__plugin_t, node)->name, d->name) ==
        0) {
      weft__errf(err, len, "%s: plugin name \"%s\" is already taken", label,
                 d->name);
      free(p);
      return NULL;
    }
  p->name = strdup(d->name);
  p->file = strdup(label);
  if (p->name == NULL || p->file == NULL) {
    weft__errf(err, len, "%s: out of memory", label);
    free(p->name);
    free(p->file);
    free(p);
    return NULL;
  }
  p->desc = d;
  p->kind = d->kind;
  p->refs = 1;
  weft__list_push(&reg->loaded, &p->node);
  return p;
}

const weft_plugin_t *weft__plugin_builtin(const char *name) {
  const lt_dlsymlist *sym;
  char want[96];

  if (name == NULL || !weft__name_valid(name))
    return NULL;
  snprintf(want, sizeof(want), "%s_LTX_%s", name, WEFT_PLUGIN_SYMBOL_NAME);
  for (sym = lt_libweft_LTX_preloaded_symbols;
       sym != NULL && sym->name != NULL; sym++)
    if (sym->address != NULL && strcmp(sym->name, want) == 0)
      return sym->address;
  return NULL;
}

static weft__plugin_t *weft__plugin_open_file(weft__plugins_t *reg,
                                              const char *path, char *err,
                                              size_t len) {
  char abs[PATH_MAX], copy[PATH_MAX];
  const char *open_path;
  weft__plugin_t *p;
  lt_dladvise advise;
  lt_dlhandle h;
  struct stat st;
  void *probe;

  if (weft__plugin_file_ok(path, err, len) != 0)
    return NULL;
  if (realpath(path, abs) == NULL || stat(abs, &st) != 0) {
    weft__errf(err, len, "%s: %s", path, strerror(errno));
    return NULL;
  }
  open_path = abs;
  p = weft__plugin_find(reg, abs);
  if (p != NULL && !weft__plugin_changed(p))
    return p;
  if (p != NULL) {
    /* Replaced on disk: connections keep the old code, new ones get this. */
    p->stale = 1;
    if (weft__plugin_copy(abs, copy, sizeof(copy)) != 0) {
      weft__errf(err, len, "%s: cannot copy it to load it anew: %s", abs,
                 strerror(errno));
      return NULL;
    }
    open_path = copy;
  }
  /*
   * libltdl resolves lazily and, when every loader fails, may report only
   * "file not found".  Opening the file first with RTLD_NOW gives the
   * dynamic loader's own reason (a missing library, an undefined symbol)
   * and makes an unresolved symbol fail here, not mid-traffic.
   */
  probe = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
  if (probe == NULL) {
    weft__errf(err, len, "%s: cannot load: %s", abs, dlerror());
    if (open_path != abs)
      unlink(open_path);
    return NULL;
  }
  h = NULL;
  if (lt_dladvise_init(&advise) == 0 && lt_dladvise_local(&advise) == 0)
    h = lt_dlopenadvise(open_path, advise);
  lt_dladvise_destroy(&advise);
  dlclose(probe);
  if (open_path != abs)
    unlink(open_path);
  if (h == NULL) {
    weft__errf(err, len, "%s: cannot load: %s", abs, lt_dlerror());
    return NULL;
  }
  p = weft__plugin_adopt(reg, h, abs, err, len);
  if (p != NULL)
    p->st = st;
  return p;
}

/* The built-ins linked into the program with libtool's -dlpreopen. */
static weft__plugin_t *weft__plugin_open_builtin(weft__plugins_t *reg,
                                                 const char *name, char *err,
                                                 size_t len) {
  char file[128];
  weft__plugin_t *p;
  lt_dladvise advise;
  lt_dlhandle h = NULL;

  snprintf(file, sizeof(file), WEFT__BUILTIN " %s", name);
  p = weft__plugin_find(reg, file);
  if (p != NULL)
    return p;
  if (lt_dladvise_init(&advise) == 0 && lt_dladvise_preload(&advise) == 0 &&
      lt_dladvise_ext(&advise) == 0)
    h = lt_dlopenadvise(name, advise);
  lt_dladvise_destroy(&advise);
  if (h == NULL)
    return NULL;
  if (lt_dlsym(h, WEFT_PLUGIN_SYMBOL_NAME) == NULL) {
    lt_dlclose(h); /* a preloaded module that is not ours */
    return NULL;
  }
  return weft__plugin_adopt(reg, h, file, err, len);
}

static int weft__file_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

weft__plugin_t *weft__plugin_load(weft__plugins_t *reg, const char *name,
                                  const char *path, uint32_t kind, char *err,
                                  size_t len) {
  char cand[PATH_MAX], searched[2048];
  weft__plugin_t *p = NULL;
  size_t i, used = 0;

  err[0] = '\0';
  if (path != NULL) {
    p = weft__plugin_open_file(reg, path, err, len);
  } else {
    if (!weft__name_valid(name)) {
      weft__errf(err, len,
                 "plugin name \"%s\" is not valid: use [a-z0-9_-], or plugin "
                 "= \"path.so\" for a file",
                 name);
      return NULL;
    }
    searched[0] = '\0';
    /*
     * plugin_path first, so an operator can override a built-in; the
     * install directory last, so a stale installed copy never shadows the
     * built-in of the running weftd.
     */
    for (i = 0; i <= reg->nsearch; i++) {
      if (i == reg->nsearch) {
        p = weft__plugin_open_builtin(reg, name, err, len);
        if (p != NULL || err[0] != '\0')
          break;
        used += (size_t)snprintf(searched + used, sizeof(searched) - used,
                                 "%sbuilt-ins", used ? ", " : "");
        snprintf(cand, sizeof(cand), "%s/%s.so", reg->libdir, name);
      } else {
        snprintf(cand, sizeof(cand), "%s/%s.so", reg->search[i], name);
      }
      if (used < sizeof(searched))
        used += (size_t)snprintf(searched + used, sizeof(searched) - used,
                                 "%s%s", used ? ", " : "", cand);
      if (weft__file_exists(cand)) {
        p = weft__plugin_open_file(reg, cand, err, len);
        break;
      }
    }
    if (p == NULL && err[0] == '\0') {
      weft__errf(err, len,
                 "%s plugin \"%s\" not found (searched: %s); check the "
                 "name, or add the directory that holds %s.so to plugin_path",
                 weft_plugin_kind_name(kind), name, searched, name);
      return NULL;
    }
    if (p != NULL && strcmp(p->name, name) != 0) {
      weft__errf(err, len, "%s: declares the name \"%s\", expected \"%s\"",
                 p->file, p->name, name);
      if (p->refs == 0)
        weft__plugin_unload(p);
      return NULL;
    }
  }
  if (p == NULL)
    return NULL;
  if (p->kind != kind) {
    weft__errf(err, len, "%s: \"%s\" is a %s plugin, named here as a %s",
               p->file, p->name, weft_plugin_kind_name(p->kind),
               weft_plugin_kind_name(kind));
    if (p->refs == 0)
      weft__plugin_unload(p);
    return NULL;
  }
  p->refs++;
  return p;
}

static int weft__list_one(FILE *out, weft__plugin_t *p) {
  return fprintf(out, "%-10s %-8s ABI %u.%u  %-8s %s\n", p->name,
                 weft_plugin_kind_name(p->kind), (unsigned)p->desc->abi_major,
                 (unsigned)p->desc->abi_minor,
                 p->desc->version ? p->desc->version : "-", p->file);
}

int weft__plugins_list(weft__plugins_t *reg, FILE *out) {
  char err[1024], cand[PATH_MAX];
  const lt_dlsymlist *sym;
  weft__plugins_t one;
  weft__plugin_t *p;
  struct dirent *de;
  size_t i, n;
  int failed = 0;
  DIR *dir;

  fprintf(out, "%-10s %-8s %-9s%-8s %s\n", "NAME", "KIND", "ABI", "VERSION",
          "FILE");

  /* Module entries in the preloaded table are named "NAME.a". */
  for (sym = lt_libweft_LTX_preloaded_symbols;
       sym != NULL && sym->name != NULL; sym++) {
    n = strlen(sym->name);
    if (sym->address != NULL || n < 3 || n >= sizeof(cand) ||
        strcmp(sym->name + n - 2, ".a") != 0)
      continue;
    memcpy(cand, sym->name, n - 2);
    cand[n - 2] = '\0';
    p = weft__plugin_open_builtin(reg, cand, err, sizeof(err));
    if (p != NULL)
      weft__list_one(out, p);
  }
  for (i = 0; i <= reg->nsearch; i++) {
    const char *d = i < reg->nsearch ? reg->search[i] : reg->libdir;
    dir = opendir(d);
    if (dir == NULL)
      continue;
    while ((de = readdir(dir)) != NULL) {
      n = strlen(de->d_name);
      if (n < 4 || strcmp(de->d_name + n - 3, ".so") != 0)
        continue;
      snprintf(cand, sizeof(cand), "%s/%s", d, de->d_name);
      /* A registry of its own: a file may share a built-in's name. */
      weft__list_init(&one.loaded);
      p = weft__plugin_open_file(&one, cand, err, sizeof(err));
      if (p != NULL) {
        weft__list_one(out, p);
        weft__plugin_unload(p);
      } else {
        fprintf(out, "error: %s\n", err);
        failed++;
      }
    }
    closedir(dir);
  }
  return failed;
}
