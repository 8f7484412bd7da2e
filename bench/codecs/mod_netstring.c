/* The netstring codec, built in as a preloaded module is (see plugin.h). */
#define WEFT_PLUGIN_MODULE netstring
#include "../../codecs/netstring.c"
