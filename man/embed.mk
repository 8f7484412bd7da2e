## In-memory connections for plugin tests: weft_embed(3) and a .so page
## for each of its functions (tests/embed_man.sh runs its example).
dist_man_MANS += \
	man/weft_embed.3 \
	man/weft_embed_new.3 \
	man/weft_embed_new_named.3 \
	man/weft_embed_builtin.3 \
	man/weft_embed_free.3 \
	man/weft_embed_settings.3 \
	man/weft_embed_conn.3 \
	man/weft_embed_feed.3 \
	man/weft_embed_feed_frame.3 \
	man/weft_embed_eof.3 \
	man/weft_embed_reset.3 \
	man/weft_embed_output.3 \
	man/weft_embed_take.3 \
	man/weft_embed_read_frame.3 \
	man/weft_embed_set_peer_reading.3 \
	man/weft_embed_peer_read.3 \
	man/weft_embed_armed.3 \
	man/weft_embed_fire.3 \
	man/weft_embed_shutdown.3 \
	man/weft_embed_post.3 \
	man/weft_embed_run.3 \
	man/weft_embed_closed.3
