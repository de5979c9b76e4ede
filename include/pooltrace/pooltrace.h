/* SPDX-License-Identifier: MIT */
/* pooltrace: kernel pool leak analysis from traces. Umbrella header. */
#ifndef POOLTRACE_POOLTRACE_H
#define POOLTRACE_POOLTRACE_H

#include "pooltrace/error.h"
#include "pooltrace/event.h"
#include "pooltrace/input.h"
#include "pooltrace/reader.h"
#include "pooltrace/replay.h"
#include "pooltrace/report.h"
#include "pooltrace/tagmap.h"
#include "pooltrace/tagfilter.h"
#include "pooltrace/tags.h"
#include "pooltrace/util.h"
#include "pooltrace/verdict.h"

#include "pooltrace/version.h"

#endif
