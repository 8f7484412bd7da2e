/*
 * The plugin descriptor.  Every plugin shared object exports exactly one
 * data symbol, `weft_plugin`, of this type, filled by WEFT_CODEC_PLUGIN or
 * WEFT_HANDLER_PLUGIN.  The loader validates it before running any plugin
 * code, in this order: symbol present, magic, ABI major, struct size, kind,
 * name, vtable, vtable size, required callbacks.  See weft-codec(3).
 */
#ifndef WEFT_PLUGIN_H
#define WEFT_PLUGIN_H

#include <weft/common.h>
#include <weft/version.h>

WEFT_BEGIN_DECLS

#define WEFT_PLUGIN_MAGIC 0x57454654u /* "WEFT" */
#define WEFT_PLUGIN_SYMBOL_NAME "weft_plugin"

typedef enum {
  WEFT_PLUGIN_CODEC = 1,
  WEFT_PLUGIN_HANDLER = 2
} weft_plugin_kind_t;

typedef struct weft_plugin {
  uint32_t magic;       /* WEFT_PLUGIN_MAGIC */
  uint16_t abi_major;   /* WEFT_ABI_MAJOR the plugin was built against */
  uint16_t abi_minor;   /* WEFT_ABI_MINOR the plugin was built against */
  uint32_t struct_size; /* sizeof(weft_plugin_t) as the plugin was built */
  uint32_t kind;        /* weft_plugin_kind_t */
  const char *name;     /* what a config names it by: [a-z0-9_-]+ */
  const char *version;  /* the plugin's own version, free form */
  const void *vtable;   /* weft_codec_vtable_t or weft_handler_vtable_t */
  void *reserved[4];    /* zero; room for minor versions */
} weft_plugin_t;

/*
 * Plugins built into weftd are linked statically through libtool's
 * preloaded-symbol tables, where each needs a unique symbol: libltdl looks
 * up MODULE_LTX_weft_plugin first.  The build defines WEFT_PLUGIN_MODULE for
 * those; an out-of-tree plugin leaves it undefined.
 */
#define WEFT__CAT2(a, b) a##b
#define WEFT__CAT(a, b) WEFT__CAT2(a, b)
#ifdef WEFT_PLUGIN_MODULE
#define WEFT_PLUGIN_SYMBOL WEFT__CAT(WEFT_PLUGIN_MODULE, _LTX_weft_plugin)
#else
#define WEFT_PLUGIN_SYMBOL weft_plugin
#endif

#define WEFT_PLUGIN_DEFINE(kind_, name_, version_, vtable_)                     \
  WEFT_EXTERN const weft_plugin_t WEFT_PLUGIN_SYMBOL;                          \
  const weft_plugin_t WEFT_PLUGIN_SYMBOL = {                                   \
      WEFT_PLUGIN_MAGIC, WEFT_ABI_MAJOR, WEFT_ABI_MINOR,                       \
      (uint32_t)sizeof(weft_plugin_t), (uint32_t)(kind_), (name_), (version_),  \
      (vtable_), {0, 0, 0, 0}}

/* WEFT_CODEC_PLUGIN("line", "1.0", &line_vtable); at file scope. */
#define WEFT_CODEC_PLUGIN(name_, version_, vtable_)                            \
  WEFT_PLUGIN_DEFINE(WEFT_PLUGIN_CODEC, name_, version_, vtable_)
#define WEFT_HANDLER_PLUGIN(name_, version_, vtable_)                          \
  WEFT_PLUGIN_DEFINE(WEFT_PLUGIN_HANDLER, name_, version_, vtable_)

/* "codec", "handler" or "unknown". */
WEFT_EXTERN const char *weft_plugin_kind_name(uint32_t kind);

WEFT_END_DECLS

#endif /* WEFT_PLUGIN_H */
