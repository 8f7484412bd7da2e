/* A shared object that is not a weft plugin: no descriptor symbol. */
__attribute__((visibility("default"))) int nosym_answer(void);
int nosym_answer(void) { return 42; }
