/* Fuzz target: the line codec.  See fuzz.h. */
#include "fuzz.h"

extern const weft_plugin_t line_LTX_weft_plugin;

/* The bound is max_length plus all but one byte of the delimiter. */
static const fz_variant_t variants[] = {
    {{FZ_INT("max_length", 64), FZ_END}, 64, 0, 1},
    {{FZ_STR("delimiter", "\r\n"), FZ_INT("max_length", 32), FZ_END}, 33, 0,
     1},
    {{FZ_STR("delimiter", "\\0"), FZ_INT("max_length", 16), FZ_END}, 16, 0, 1},
    {{FZ_STR("delimiter", "abab"), FZ_INT("max_length", 40), FZ_END}, 43, 0,
     1},
    {{FZ_BOOL("strip_cr", 0), FZ_INT("max_length", 8), FZ_END}, 8, 0, 1},
    {{FZ_BOOL("append_delimiter", 0), FZ_INT("max_length", 64), FZ_END}, 64,
     0, 0},
};

const fz_target_t fz_target = {&line_LTX_weft_plugin, variants,
                               sizeof(variants) / sizeof(variants[0])};
