/* Captures what weft logs to stderr, so tests can assert on messages. */
#ifndef WEFT_TESTS_CAPTURE_H
#define WEFT_TESTS_CAPTURE_H

/* Starts sending fd 2 to a temporary file. */
void capture_start(void);
/* Restores fd 2 and returns everything logged since capture_start(); the
 * buffer is static and overwritten by the next call. */
const char *capture_end(void);
/* Counts the lines of s that contain needle. */
int capture_count(const char *s, const char *needle);

#endif
