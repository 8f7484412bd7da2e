/* The raw codec, built in as a preloaded module is (see plugin.h). */
#define WEFT_PLUGIN_MODULE raw
#include "../../codecs/raw.c"
