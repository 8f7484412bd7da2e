/* Fuzz target: the netstring codec.  See fuzz.h. */
#include "fuzz.h"

extern const weft_plugin_t netstring_LTX_weft_plugin;

/* The bound is the largest netstring: digits, ":", payload, ",". */
static const fz_variant_t variants[] = {
    {{FZ_INT("max_length", 100), FZ_END}, 105, 0, 1},
    {{FZ_INT("max_length", 9), FZ_END}, 12, 0, 1},
    {{FZ_INT("max_length", 1000), FZ_END}, 1006, 0, 1},
};

const fz_target_t fz_target = {&netstring_LTX_weft_plugin, variants,
                               sizeof(variants) / sizeof(variants[0])};
