/*
 * Output sinks.  An encoder appends the bytes of one frame to a weft_out_t;
 * the engine queues them for the connection and writes a whole read batch at
 * once.  A sink is valid only during the call that received it.
 */
#ifndef WEFT_OUT_H
#define WEFT_OUT_H

#include <weft/common.h>

WEFT_BEGIN_DECLS

/* Appends len bytes copied from data.  0 or WEFT_ENOMEM. */
WEFT_EXTERN int weft_out_append(weft_out_t *out, const void *data, size_t len);

/*
 * Appends len bytes and returns a pointer to them for the caller to fill
 * before its next call on out; NULL when memory is exhausted.
 */
WEFT_EXTERN uint8_t *weft_out_reserve(weft_out_t *out, size_t len);

/*
 * Non-zero when the frames being encoded are frames this codec's
 * decode_many() returned for this connection in the batch a handler's
 * on_frames is handling (that call's frames, or a run of them, in order),
 * unchanged, with their input still in place (an echo, a forwarder): the
 * bytes around each frame are the ones the decoder read, so an encoder may
 * send that input as it came.  ABI 1.2.
 */
WEFT_EXTERN int weft_out_decoded(const weft_out_t *out);

WEFT_END_DECLS

#endif /* WEFT_OUT_H */
