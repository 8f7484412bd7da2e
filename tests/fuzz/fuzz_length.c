/* Fuzz target: the length codec.  See fuzz.h. */
#include "fuzz.h"

extern const weft_plugin_t length_LTX_weft_plugin;

/* The bound is max_frame, or the header plus what the field counts. */
static const fz_variant_t variants[] = {
    {{FZ_STR("max_frame", "300"), FZ_END}, 300, 0, 1},
    {{FZ_INT("length_size", 1), FZ_END}, 256, 0, 1},
    {{FZ_INT("length_size", 2), FZ_STR("byte_order", "little"),
      FZ_INT("max_frame", 1000), FZ_END},
     1000, 0, 1},
    {{FZ_INT("length_size", 3), FZ_INT("max_frame", 5000), FZ_END}, 5000, 0,
     1},
    {{FZ_INT("length_size", 8), FZ_INT("max_frame", 100), FZ_END}, 100, 0, 1},
    {{FZ_INT("length_offset", 1), FZ_INT("length_size", 2),
      FZ_INT("length_adjustment", 1), FZ_INT("strip", 3),
      FZ_INT("max_frame", 200), FZ_END},
     200, 0, 1},
    {{FZ_INT("length_size", 2), FZ_INT("length_adjustment", -2),
      FZ_INT("strip", 0), FZ_INT("max_frame", 500), FZ_END},
     500, 0, 1},
    {{FZ_INT("length_size", 4), FZ_BOOL("length_includes_header", 1),
      FZ_INT("strip", 2), FZ_INT("max_frame", 400), FZ_END},
     400, 0, 1},
};

const fz_target_t fz_target = {&length_LTX_weft_plugin, variants,
                               sizeof(variants) / sizeof(variants[0])};
