/* Fuzz target: the raw codec.  See fuzz.h. */
#include "fuzz.h"

extern const weft_plugin_t raw_LTX_weft_plugin;

/* Frames are reads: only the bytes must come through, and none kept. */
static const fz_variant_t variants[] = {
    {{FZ_END}, 0, 1, 0},
};

const fz_target_t fz_target = {&raw_LTX_weft_plugin, variants,
                               sizeof(variants) / sizeof(variants[0])};
