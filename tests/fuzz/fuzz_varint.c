/* Fuzz target: the varint codec.  See fuzz.h. */
#include "fuzz.h"

extern const weft_plugin_t varint_LTX_weft_plugin;

/* The bound is the largest frame: its prefix and max_length. */
static const fz_variant_t variants[] = {
    {{FZ_INT("max_length", 300), FZ_END}, 302, 0, 1},
    {{FZ_INT("max_length", 127), FZ_END}, 128, 0, 1},
    {{FZ_INT("max_length", 20000), FZ_END}, 20003, 0, 1},
};

const fz_target_t fz_target = {&varint_LTX_weft_plugin, variants,
                               sizeof(variants) / sizeof(variants[0])};
