/* The library needgone.so depends on; its soname is never installed. */
int weftgone_value(void);
int weftgone_value(void) { return 1; }
