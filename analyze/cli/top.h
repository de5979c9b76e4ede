/* SPDX-License-Identifier: MIT */
/* Internal to the pooltrace program: the full-screen front end of `pooltrace top`. */
#ifndef PT_CLI_TOP_H
#define PT_CLI_TOP_H

#include <stdint.h>

#include "pooltrace/topview.h"

/**
 * pt__top_curses() - run the ncurses screen over a view until the user quits
 * or SIGINT/SIGTERM arrives; the terminal is restored in every case.
 * @refresh_ns: wall time between refreshes while playing.
 * @return: 0, or PT_EUSAGE after a message when there is no terminal.
 */
int pt__top_curses(struct pt_topview *v, uint64_t refresh_ns);

#endif
