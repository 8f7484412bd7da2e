/* The line codec, built in as a preloaded module is (see plugin.h). */
#define WEFT_PLUGIN_MODULE line
#include "../../codecs/line.c"
