/* weft: the umbrella header.  Plugins and embedders include only this. */
#ifndef WEFT_H
#define WEFT_H

#include <weft/version.h>
#include <weft/common.h>
#include <weft/error.h>
#include <weft/log.h>
#include <weft/opts.h>
#include <weft/out.h>
#include <weft/conn.h>
#include <weft/codec.h>
#include <weft/handler.h>
#include <weft/plugin.h>
#include <weft/engine.h>
#include <weft/stats.h>
#include <weft/mailbox.h>
#include <weft/connect.h>
#include <weft/embed.h>

#endif /* WEFT_H */
