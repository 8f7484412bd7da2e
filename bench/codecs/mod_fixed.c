/* The fixed codec, built in as a preloaded module is (see plugin.h). */
#define WEFT_PLUGIN_MODULE fixed
#include "../../codecs/fixed.c"
