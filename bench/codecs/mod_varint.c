/* The varint codec, built in as a preloaded module is (see plugin.h). */
#define WEFT_PLUGIN_MODULE varint
#include "../../codecs/varint.c"
