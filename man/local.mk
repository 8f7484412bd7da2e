## Man pages: the overview weft(7), the daemon weftd(8), its configuration
## weft.conf(5), and the plugin ABI, weft-codec(3) and weft-handler(3).
dist_man_MANS += man/weft.7 man/weftd.8 man/weft.conf.5 man/weft-codec.3 \
	man/weft-handler.3

# The handler plugins' pages.
dist_man_MANS += man/weft-pubsub.7
dist_man_MANS += man/weft-proxy.7

# The built-in codecs, and the conformance tool for codec plugins.
dist_man_MANS += man/weft-codecs.7 man/weft-codec-test.1

# The command-line client; tests/weft_client.sh lints it.
dist_man_MANS += man/weft.1

# The pages must stay true to the code: tests/manlint.sh lints them with
# mandoc and compiles (and loads into weftd) the example plugins of
# weft-codec(3) and weft-handler(3) against the public headers.
TESTS += tests/manlint.sh
EXTRA_DIST += tests/manlint.sh

# One page per public function family, and a .so page for every other
# function name in it; tests/manpages.sh (man/pages.mk) checks the list.
dist_man_MANS += \
	man/weft_conn_send.3 \
	man/weft_conn_send_many.3 \
	man/weft_conn_close.3 \
	man/weft_conn_writable.3 \
	man/weft_conn_queued.3 \
	man/weft_conn_set_data.3 \
	man/weft_conn_data.3 \
	man/weft_conn_handler_state.3 \
	man/weft_conn_peer.3 \
	man/weft_conn_listener.3 \
	man/weft_conn_id.3 \
	man/weft_opt_int.3 \
	man/weft_opt_choice.3 \
	man/weft_opt_bool.3 \
	man/weft_opt_str.3 \
	man/weft_opt_size.3 \
	man/weft_opt_duration.3 \
	man/weft_opt_error.3 \
	man/weft_opts_plugin_name.3 \
	man/weft_log.3 \
	man/weft_logv.3 \
	man/weft_log_set_level.3 \
	man/weft_log_get_level.3 \
	man/weft_log_level_name.3 \
	man/weft_log_to_syslog.3 \
	man/weft_strerror.3 \
	man/weft_err_name.3 \
	man/weft_out_append.3 \
	man/weft_out_reserve.3 \
	man/weft_out_decoded.3 \
	man/weft_codec_state.3 \
	man/weft_codec_conn_state.3 \
	man/weft_codec_conn.3 \
	man/weft_codec_write.3 \
	man/weft_engine_new.3 \
	man/weft_engine_load_file.3 \
	man/weft_engine_load_string.3 \
	man/weft_engine_load_default.3 \
	man/weft_engine_check.3 \
	man/weft_engine_start.3 \
	man/weft_engine_stop.3 \
	man/weft_engine_reload.3 \
	man/weft_engine_maintain.3 \
	man/weft_engine_wait.3 \
	man/weft_engine_free.3 \
	man/weft_engine_list_plugins.3 \
	man/weft_post.3 \
	man/weft_worker_post.3 \
	man/weft_conn_ref.3 \
	man/weft_conn_ref_valid.3 \
	man/weft_connect.3 \
	man/weft_client_new.3 \
	man/weft_client_free.3 \
	man/weft_conn_connecting.3 \
	man/weft_conn_read_stop.3 \
	man/weft_conn_read_start.3 \
	man/weft_conn_engine.3 \
	man/weft_conn_worker.3 \
	man/weft_engine_workers.3 \
	man/weft_conn_stats.3 \
	man/weft_engine_stats.3 \
	man/weft_plugin_kind_name.3
