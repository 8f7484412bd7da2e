/* The length codec, built in as a preloaded module is (see plugin.h). */
#define WEFT_PLUGIN_MODULE length
#include "../../codecs/length.c"
