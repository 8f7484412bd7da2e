/*
 * Descriptors broken one way each, chosen at build time with BADDESC_*:
 * the loader must refuse each with its own message.
 */
#include <weft/weft.h>

__attribute__((unused)) static weft_decode_status_t
bad_decode(weft_codec_ctx_t *ctx, const uint8_t *in,
                                       size_t len, weft_decode_t *d) {
  (void)ctx;
  (void)in;
  (void)len;
  (void)d;
  return WEFT_DECODE_MORE;
}

static int bad_encode(weft_codec_ctx_t *ctx, const uint8_t *frame, size_t len,
                      weft_out_t *out) {
  (void)ctx;
  return weft_out_append(out, frame, len);
}

#if defined(BADDESC_NEWMINOR)
/* A plugin from a future 1.x: bigger descriptor and vtable, both accepted. */
typedef struct {
  weft_codec_vtable_t v;
  void (*future_member)(void);
} future_vtable_t;
static void future(void) {}
static const future_vtable_t vt = {
    {sizeof(future_vtable_t), NULL, NULL, NULL, NULL, bad_decode, NULL,
     bad_encode, NULL, NULL},
    future};
typedef struct {
  weft_plugin_t d;
  void *future_slot[8];
} future_desc_t;
WEFT_EXTERN const future_desc_t weft_plugin;
const future_desc_t weft_plugin = {
    {WEFT_PLUGIN_MAGIC, WEFT_ABI_MAJOR, 99, sizeof(future_desc_t),
     WEFT_PLUGIN_CODEC, "newminor", "1.0", &vt, {0}},
    {0}};
#else
static const weft_codec_vtable_t vt = {
#if defined(BADDESC_SMALLVT)
    8,
#else
    sizeof(weft_codec_vtable_t),
#endif
    NULL, NULL, NULL, NULL,
#if defined(BADDESC_NODECODE)
    NULL,
#else
    bad_decode,
#endif
    NULL, bad_encode, NULL, NULL};

WEFT_EXTERN const weft_plugin_t weft_plugin;
const weft_plugin_t weft_plugin = {
#if defined(BADDESC_MAGIC)
    0xdeadbeefu,
#else
    WEFT_PLUGIN_MAGIC,
#endif
#if defined(BADDESC_MAJOR)
    WEFT_ABI_MAJOR + 1,
#else
    WEFT_ABI_MAJOR,
#endif
    WEFT_ABI_MINOR,
#if defined(BADDESC_SMALLDESC)
    8,
#else
    sizeof(weft_plugin_t),
#endif
#if defined(BADDESC_KIND)
    7,
#else
    WEFT_PLUGIN_CODEC,
#endif
    BADDESC_NAME, "1.0", &vt, {0}};
#endif
