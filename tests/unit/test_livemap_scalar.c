/* SPDX-License-Identifier: MIT */
/*
 * test_livemap.c with the live map's portable group scan instead of SSE2
 * (the library keeps its SSE2 build, so the two must agree on every slot).
 */
#define PT__LIVE_NO_SIMD 1
#include "test_livemap.c"
