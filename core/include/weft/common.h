/* Shared definitions for every public weft header. */
#ifndef WEFT_COMMON_H
#define WEFT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define WEFT_BEGIN_DECLS extern "C" {
#define WEFT_END_DECLS }
#else
#define WEFT_BEGIN_DECLS
#define WEFT_END_DECLS
#endif

/* Symbols of libweft and a plugin's descriptor are the only exports. */
#if defined(__GNUC__) || defined(__clang__)
#define WEFT_EXTERN __attribute__((visibility("default")))
#define WEFT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WEFT_EXTERN
#define WEFT_PRINTF(f, a)
#endif

WEFT_BEGIN_DECLS

/* Opaque handles.  Their layout is private to libweft. */
typedef struct weft_conn weft_conn_t;
typedef struct weft_opts weft_opts_t;
typedef struct weft_out weft_out_t;
typedef struct weft_codec_ctx weft_codec_ctx_t;
typedef struct weft_engine weft_engine_t;

/*
 * ABI 1.2.  A frame as a slice of bytes someone else owns: the batch calls
 * (a codec's decode_many and encode_many, a handler's on_frames,
 * weft_conn_send_many) pass arrays of them.
 */
typedef struct weft_frame {
  const uint8_t *data;
  size_t len;
} weft_frame_t;

WEFT_END_DECLS

#endif /* WEFT_COMMON_H */
