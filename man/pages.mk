## Every public function in core/include/weft/ has a page: tests/manpages.sh
## compares the two lists and lints the pages.  Included from Makefile.am.
TESTS += tests/manpages.sh
EXTRA_DIST += tests/manpages.sh
include man/embed.mk
