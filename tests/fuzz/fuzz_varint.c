/* Fuzz target: the varint codec.  See fuzz.h. */
#include "fuzz.h"

extern const weft_plugin_t varint_LTX_weft_plugin;

/* The bound is the largest frame with the longest prefix the codec
 * accepts: 10 bytes (a non-minimal one) and max_length. */
static const fz_variant_t variants[] = {
    {{FZ_INT("max_length", 300), FZ_END}, 310, 0, 1},
    {{FZ_INT("max_length", 127), FZ_END}, 137, 0, 1},
    {{FZ_INT("max_length", 20000), FZ_END}, 20010, 0, 1},
};

const fz_target_t fz_target = {&varint_LTX_weft_plugin, variants,
                               sizeof(variants) / sizeof(variants[0])};
