/*
 * Outbound connections.  A handler makes a client in its create() -- a
 * codec and a set of callbacks for the connections it will open -- and
 * opens connections with weft_connect() from its worker.  Once connected
 * they are ordinary connections: the codec frames them, the same timeouts,
 * watermarks, backpressure and counters apply, and every weft_conn_*
 * function works on them.  See weft_connect(3).
 */
#ifndef WEFT_CONNECT_H
#define WEFT_CONNECT_H

#include <weft/common.h>
#include <weft/handler.h>
#include <weft/opts.h>

WEFT_BEGIN_DECLS

typedef struct weft_client weft_client_t;

typedef struct weft_client_conf {
  /* sizeof(weft_client_conf_t) as the caller was compiled. */
  size_t struct_size;
  /* In logs and counters as "LISTENER/NAME"; NULL: "client". */
  const char *name;
  /* Required.  The codec: a plugin name, or a path to a .so file. */
  const char *codec;
  /* The codec's options in configuration syntax ("max_frame = 65536;
   * length_size = 2;"), or NULL for its defaults. */
  const char *codec_options;
  /*
   * Required.  The callbacks of the connections: on_frame is required,
   * create and destroy are not used.  on_open runs once the connection is
   * established; on_close runs exactly once for every connection
   * weft_connect() returned, with WEFT_ECONNREFUSED or WEFT_ETIMEDOUT when
   * it never connected.  on_shutdown, when set, leaves the connection open
   * at a graceful stop for the handler to close when its work is done.
   */
  const weft_handler_vtable_t *handler;
  /* What weft_conn_handler_state() returns on these connections. */
  void *handler_state;
  /* One attempt's limit; 0: 5 s. */
  uint64_t connect_timeout_ms;
  /* Attempts after a failed one, each after a backoff that starts at
   * backoff_ms (0: 100 ms) and doubles up to backoff_max_ms (0: 5 s). */
  uint32_t retries;
  uint64_t backoff_ms;
  uint64_t backoff_max_ms;
  /* Once connected, as for a listener; 0: off. */
  uint64_t idle_timeout_ms;
  uint64_t frame_timeout_ms;
  uint64_t write_timeout_ms;
  /* Output watermarks in bytes; 0: 64 KiB and 32 KiB, as for listeners. */
  uint64_t high_watermark;
  uint64_t low_watermark;
} weft_client_conf_t;

/*
 * Makes a client in a handler's create(), from the opts it was given: the
 * codec is loaded and checked as a listener's would be, and any problem is
 * recorded against opts (weftd --check lists it with the line).  The client
 * runs on the worker of the handler instance being created.  Returns 0,
 * WEFT_EINVAL (bad conf), WEFT_EPLUGIN, WEFT_ECONFIG (bad codec options) or
 * WEFT_ENOMEM.
 */
WEFT_EXTERN int weft_client_new(weft_opts_t *opts,
                                const weft_client_conf_t *conf,
                                weft_client_t **client);

/*
 * Releases a client, from the handler's destroy().  weft keeps destroy()
 * from running while the client's connections are open.
 */
WEFT_EXTERN void weft_client_free(weft_client_t *client);

/*
 * Opens a connection to address ("ip:port", "[ip6]:port" or "unix:/path";
 * numeric, no name lookup) on the client's worker thread.  data is set as
 * the connection's data before any callback.  The connection is returned
 * at once, before it is established: frames sent meanwhile are queued
 * (they count against the watermarks) and go out once it is.  Returns 0,
 * WEFT_EINVAL (bad address, wrong thread, a client made by --check),
 * WEFT_ESHUTDOWN or WEFT_ENOMEM.
 */
WEFT_EXTERN int weft_connect(weft_client_t *client, const char *address,
                             void *data, weft_conn_t **conn);

/*
 * Stops delivering conn's frames and reading its socket, until
 * weft_conn_read_start().  For backpressure across connections: a proxy
 * stops reading one side while the other cannot take more.  Frames already
 * read stay queued, and do not count against the frame timeout.
 */
WEFT_EXTERN void weft_conn_read_stop(weft_conn_t *conn);
/* Resumes: held frames are delivered first.  Safe to call when reading. */
WEFT_EXTERN void weft_conn_read_start(weft_conn_t *conn);

/* 1 while an outbound connection is still being established. */
WEFT_EXTERN int weft_conn_connecting(const weft_conn_t *conn);

WEFT_END_DECLS

#endif /* WEFT_CONNECT_H */
