/*
 * The plugin loader: finds a plugin by name or path, opens it with libltdl,
 * and validates its descriptor before any of its code runs.  Main thread
 * only.  Plugins are shared by every listener that names them (refcounted).
 */
#ifndef WEFT_CORE_PLUGIN_LOADER_H
#define WEFT_CORE_PLUGIN_LOADER_H

#include <stdio.h>
#include <sys/stat.h>

#include <weft/codec.h>
#include <weft/handler.h>
#include <weft/plugin.h>

#include "list.h"

typedef struct weft__plugin {
  weft__list_t node;
  char *name;  /* the descriptor's name */
  char *file;  /* absolute path, or "built-in" */
  void *handle; /* lt_dlhandle */
  const weft_plugin_t *desc;
  uint32_t kind;
  /* Copies of the vtable sized as this weft knows it: members a plugin
   * built for an older minor lacks stay NULL, newer ones are ignored. */
  weft_codec_vtable_t codec;
  weft_handler_vtable_t handler;
  int refs;
  /* The file as loaded, to notice when it is replaced on disk. */
  struct stat st;
  int stale; /* replaced: new loads take a fresh copy of the file */
} weft__plugin_t;

typedef struct weft__plugins {
  weft__list_t loaded;
  const char *const *search; /* plugin_path */
  size_t nsearch;
  const char *libdir; /* the install directory, searched last */
} weft__plugins_t;

/* Starts libltdl (refcounted).  0 or WEFT_EPLUGIN. */
int weft__plugins_init(weft__plugins_t *reg, const char *const *search,
                       size_t nsearch, const char *libdir);
/* Unloads what is left and stops libltdl. */
void weft__plugins_destroy(weft__plugins_t *reg);

/*
 * Loads a plugin by name (searching plugin_path, the built-ins, then the
 * install directory) or by path, and checks it is of the wanted kind.
 * Returns it with a reference taken, or NULL with a message in err naming
 * the file and the reason.
 */
weft__plugin_t *weft__plugin_load(weft__plugins_t *reg, const char *name,
                                  const char *path, uint32_t kind, char *err,
                                  size_t errlen);
void weft__plugin_release(weft__plugins_t *reg, weft__plugin_t *p);
/*
 * Registers a descriptor the program holds (weft_embed): checked like a
 * loaded file's, `label` naming it in messages.  With a reference taken,
 * or NULL with the reason in err.
 */
weft__plugin_t *weft__plugin_from_desc(weft__plugins_t *reg,
                                       const weft_plugin_t *d,
                                       const char *label, uint32_t kind,
                                       char *err, size_t len);
/* The descriptor of a plugin built into libweft, or NULL. */
const weft_plugin_t *weft__plugin_builtin(const char *name);
/* True when p's file was replaced or changed since it was loaded. */
int weft__plugin_changed(const weft__plugin_t *p);

/*
 * Writes a line per loadable plugin (built-ins, then *.so files in the
 * search directories) to out; returns how many files failed to load.
 */
int weft__plugins_list(weft__plugins_t *reg, FILE *out);

#endif /* WEFT_CORE_PLUGIN_LOADER_H */
