/* Fuzz target: the fixed codec.  See fuzz.h. */
#include "fuzz.h"

extern const weft_plugin_t fixed_LTX_weft_plugin;

static const fz_variant_t variants[] = {
    {{FZ_INT("frame_size", 1), FZ_END}, 1, 0, 1},
    {{FZ_INT("frame_size", 3), FZ_END}, 3, 0, 1},
    {{FZ_INT("frame_size", 64), FZ_END}, 64, 0, 1},
};

const fz_target_t fz_target = {&fixed_LTX_weft_plugin, variants,
                               sizeof(variants) / sizeof(variants[0])};
