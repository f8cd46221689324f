/* The C contract compiles as strict C99: a plugin may be written in C. */
#include <moolai/plugin_api.h>

/* Referenced by test_kit_check.cpp so the check cannot be dropped. */
unsigned c_headers_abi_major(void) { return MOOLAI_ABI_MAJOR; }
